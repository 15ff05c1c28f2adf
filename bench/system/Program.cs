using System.Globalization;
using System.Text;
using Converge.Bench.SystemWorkload;
using Converge.Testing.Hosts;

// System workload benchmark (bench/README.md, "System workload"): for each tool, a fresh throwaway host,
// the same accounts, crontabs and packages, one first apply, then K timed no-op re-runs. Everything that
// changes users, groups, crontabs or packages happens inside the hosts; the machine is left as it was.

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string? convergeDir = null;
var tools = new List<string> { "converge", "puppet", "ansible" };
int repeat = 5, users = 50, groups = 20, jobs = 50;
string? results = null;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--converge": convergeDir = Next(); break;
        case "--tools": tools = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).ToList(); break;
        case "--repeat": repeat = int.Parse(Next()); break;
        case "--users": users = int.Parse(Next()); break;
        case "--groups": groups = int.Parse(Next()); break;
        case "--jobs": jobs = int.Parse(Next()); break;
        case "--results": results = Next(); break;
        default:
            Console.Error.WriteLine("usage: SystemBench --converge PUBLISH_DIR --results DIR [--tools converge,puppet,ansible] [--repeat K] [--users N] [--groups N] [--jobs N]");
            return 64;
    }
}
if (results is null) { Console.Error.WriteLine("SystemBench: --results DIR is required"); return 64; }
foreach (var t in tools.Where(t => t is not ("converge" or "puppet" or "ansible")))
{
    Console.Error.WriteLine($"SystemBench: unknown tool '{t}' (want some of converge,puppet,ansible)");
    return 64;
}
if (tools.Contains("converge") && (convergeDir is null || !File.Exists(Path.Combine(convergeDir, "converge"))))
{
    Console.Error.WriteLine($"SystemBench: --converge must name the directory of a published converge (got '{convergeDir}')");
    return 64;
}

var workload = new Workload(users, groups, jobs, Workload.DefaultPackages);
workload.Validate();
var started = DateTime.UtcNow;
var rows = new List<Row>();
var versions = new List<string>();
var profile = "";
var failed = false;

// Hosts lack cron; the puppet host also needs the cron type, which Debian ships as a module. Every host
// gets both, so they differ only in the tool that runs.
string[] hostPackages = ["cron", "puppet-module-puppetlabs-cron-core"];
Console.Error.WriteLine($"fetching {string.Join(", ", hostPackages)} into {DebCache.Root} (once)");
await DebCache.FetchAsync(hostPackages);

foreach (var name in tools)
{
    var tool = name switch { "converge" => Tool.Converge(workload), "puppet" => Tool.Puppet(workload), _ => Tool.Ansible(workload) };
    try
    {
        await RunTool(tool);
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or HostStartException)
    {
        failed = true;
        Console.Error.WriteLine($"!!! {tool.Name}: {e.Message}");
    }
}

var md = WriteResults();
Console.Error.WriteLine($"results: {md}");
return failed ? 1 : 0;

async Task RunTool(Tool tool)
{
    var options = new HostOptions
    {
        Hostname = "bench-" + tool.Name,
        MountConverge = false,
        ReadOnlyBinds = tool.Name == "converge" ? [new HostBind(Path.GetFullPath(convergeDir!), Tool.ConvergeDir)] : [],
    };
    await using var host = ThrowawayHost.Start(options);
    await DebCache.InstallAsync(host, hostPackages);
    foreach (var (path, text) in tool.Files) await host.WriteFileAsync(path, text);
    if (tool.Setup.Count > 0) Check(await host.RunAsync(tool.Setup), "setup");
    var version = await host.RunAsync(["/bin/sh", "-c", tool.VersionCommand], tool.Environment);
    versions.Add($"- {tool.Name}: {version.Stdout.Trim().Split('\n')[0]}");

    var first = await Measure(host, tool, "first", 1);
    var state = (await host.ShAsync(workload.StateScript())).Stdout;
    var expected = workload.ExpectedState();
    if (state != expected)
    {
        first.Note = "state differs from the workload";
        throw new InvalidOperationException($"after the first apply the host's state is not the workload's (log kept: {KeepLog(first)}):\n{FirstDifference(expected, state)}");
    }
    if (!first.Reported.ExitOk || first.Reported.Failed != 0 || first.Reported.Changed <= 0)
        throw new InvalidOperationException($"first apply: exit {first.Exit}, reported {first.Reported} (log kept: {KeepLog(first)})");

    for (var k = 1; k <= repeat; k++)
    {
        var before = (await host.ShAsync(Workload.FingerprintScript)).Stdout;
        var run = await Measure(host, tool, "noop", k);
        var after = (await host.ShAsync(Workload.FingerprintScript)).Stdout;
        run.Untouched = before == after;
        if (!run.Untouched || run.Reported.Changed != 0 || run.Reported.Failed != 0 || !run.Reported.ExitOk)
        {
            run.Note = run.Untouched ? $"reported {run.Reported}" : "files changed on a no-op run";
            throw new InvalidOperationException($"no-op run {k} is not a no-op: exit {run.Exit}, reported {run.Reported}, " +
                $"files untouched: {run.Untouched} (log kept: {KeepLog(run)})\n{FirstDifference(before, after)}");
        }
    }

    // Where converge's time goes: one more no-op run with -v (phase times on stderr), not in the table.
    if (tool.Name == "converge")
    {
        var verbose = await host.RunAsync([.. tool.Command, "-v"], tool.Environment, timeout: TimeSpan.FromMinutes(10));
        // The phase lines only; the per-resource lines ("user[bu01] unchanged in 0.4 ms") are summed per type.
        var lines = (verbose.Stdout + "\n" + verbose.Stderr).Split('\n');
        var perType = lines.Select(l => ResourceTime().Match(l)).Where(m => m.Success)
            .GroupBy(m => m.Groups[1].Value)
            .Select(g => $"  {g.Key}: {g.Count()} resources, sum of their times {g.Sum(m => double.Parse(m.Groups[2].Value)):0.0} ms");
        profile = string.Join('\n', lines.Where(l => l.Contains(" DBG ") && !ResourceTime().IsMatch(l) || l.Contains(" resources: ")).Concat(perType));
    }
}

async Task<Row> Measure(ThrowawayHost host, Tool tool, string scenario, int k)
{
    var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
    const string timeFile = "/tmp/bench.time";
    // /usr/bin/time inside the host: wall and CPU of the tool's whole process tree, peak RSS of its
    // largest process; the nsenter that enters the host is outside what it measures.
    var result = await host.RunAsync(["/usr/bin/time", "-f", "%e %U %S %M", "-o", timeFile, .. tool.Command], tool.Environment,
        timeout: TimeSpan.FromMinutes(30));
    var fields = File.ReadAllLines(host.Path(timeFile))[^1].Split(' ');
    var output = result.Stdout + "\n" + result.Stderr;
    var row = new Row(tool.Name, scenario, k, double.Parse(fields[0]), double.Parse(fields[1]) + double.Parse(fields[2]),
        long.Parse(fields[3]) / 1024.0, result.ExitCode, tool.Report(result.ExitCode, output), load) { Output = output };
    rows.Add(row);
    Console.Error.WriteLine($"{tool.Name,-9} {scenario,-6} {k,2}  {row.Wall,7:0.00} s  {row.Cpu,7:0.00} cpu-s  {row.RssMb,5:0} MB  " +
                            $"exit {row.Exit}  changed {row.Reported.Changed}  load {load}");
    return row;
}

// A failed run's output is kept for the reader; everything else lives and dies with the host.
string KeepLog(Row row)
{
    var dir = Path.Combine(results!, "tmp");
    Directory.CreateDirectory(dir);
    var path = Path.Combine(dir, $"system-{row.Tool}-{row.Scenario}-{row.Run}.log");
    File.WriteAllText(path, row.Output);
    return path;
}

static void Check(HostCommandResult result, string what)
{
    if (result.ExitCode != 0) throw new InvalidOperationException($"{what} failed: {result}");
}

static string FirstDifference(string expected, string actual)
{
    var e = expected.Split('\n');
    var a = actual.Split('\n');
    for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
    {
        var x = i < e.Length ? e[i] : "(end)";
        var y = i < a.Length ? a[i] : "(end)";
        if (x != y) return $"line {i + 1}: expected '{x}', got '{y}'";
    }
    return "(no difference)";
}

string WriteResults()
{
    Directory.CreateDirectory(results!);
    var stamp = started.ToString("yyyy-MM-dd");
    var basePath = Path.Combine(results!, $"{stamp}-system");
    for (var n = 2; File.Exists(basePath + ".md"); n++) basePath = Path.Combine(results!, $"{stamp}-system-{n}");
    var csv = new StringBuilder("tool,scenario,run,wall_s,cpu_s,peak_rss_mb,exit,reported_changed,files_untouched,load1,note\n");
    foreach (var r in rows)
        csv.Append($"{r.Tool},{r.Scenario},{r.Run},{r.Wall:0.00},{r.Cpu:0.00},{r.RssMb:0},{r.Exit},{r.Reported.Changed},{r.UntouchedText},{r.Load},{r.Note}\n");
    File.WriteAllText(basePath + ".csv", csv.ToString());

    var md = new StringBuilder();
    md.Append($"# System workload benchmark, {stamp}\n\n");
    md.Append($"- started: {started:yyyy-MM-dd HH:mm:ss} UTC; command: bench/system/run.sh {Environment.GetEnvironmentVariable("BENCH_ARGS")}\n");
    md.Append($"- machine: {Environment.ProcessorCount} cores, {CpuModel()}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}\n");
    md.Append($"- workload: {users} users, {groups} groups, {jobs} cron jobs (in {workload.CrontabOwners.Count()} crontabs), " +
              $"{workload.Packages.Count} packages already installed ({string.Join(", ", workload.Packages)})\n");
    md.Append($"- each tool in its own throwaway host (cron and puppet-module-puppetlabs-cron-core installed from the deb cache)\n");
    foreach (var v in versions) md.Append(v).Append('\n');
    md.Append("\nwall = elapsed seconds; cpu = user + system seconds of the whole process tree; peak RSS = largest single\n");
    md.Append("process (/usr/bin/time inside the host); changed = what the tool reported (ansible: tasks, a loop counts once);\n");
    md.Append("untouched = inode, ctime and mtime of passwd, shadow, group, gshadow, dpkg status, every crontab and home\n");
    md.Append("unchanged by the run; load1 = 1-minute load average when the run started.\n\n");
    md.Append("## Summary (no-op re-run, median)\n\n| tool | first apply s | no-op s (median) | no-op min–max s | cpu s | peak RSS MB | runs |\n|---|---:|---:|---:|---:|---:|---:|\n");
    foreach (var g in rows.GroupBy(r => r.Tool))
    {
        var first = g.FirstOrDefault(r => r.Scenario == "first");
        var noop = g.Where(r => r.Scenario == "noop" && r.Untouched).ToList();
        if (noop.Count == 0) { md.Append($"| {g.Key} | {first?.Wall:0.00} | (no valid no-op run) | | | | 0 |\n"); continue; }
        md.Append($"| {g.Key} | {first?.Wall:0.00} | {Median(noop.Select(r => r.Wall)):0.00} | {noop.Min(r => r.Wall):0.00}–{noop.Max(r => r.Wall):0.00} | " +
                  $"{Median(noop.Select(r => r.Cpu)):0.00} | {Median(noop.Select(r => r.RssMb)):0} | {noop.Count} |\n");
    }
    md.Append("\n## Every run\n\n| tool | scenario | run | wall s | cpu s | peak RSS MB | exit | changed | untouched | load1 | note |\n|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|\n");
    foreach (var r in rows)
        md.Append($"| {r.Tool} | {r.Scenario} | {r.Run} | {r.Wall:0.00} | {r.Cpu:0.00} | {r.RssMb:0} | {r.Exit} | {r.Reported.Changed} | {r.UntouchedText} | {r.Load} | {r.Note} |\n");
    if (profile.Length > 0)
        md.Append("\n## converge apply -v (one more no-op run, phase times)\n\n```\n").Append(profile).Append("\n```\n");
    File.WriteAllText(basePath + ".md", md.ToString());
    return basePath + ".md";
}

static double Median(IEnumerable<double> values)
{
    var v = values.Order().ToArray();
    return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
}

static string CpuModel() =>
    File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

partial class Program
{
    [System.Text.RegularExpressions.GeneratedRegex(@" DBG ([a-z_]+)\[[^\]]*\] unchanged in ([0-9.]+) ms")]
    private static partial System.Text.RegularExpressions.Regex ResourceTime();
}

/// <summary>One timed run.</summary>
sealed record Row(string Tool, string Scenario, int Run, double Wall, double Cpu, double RssMb, int Exit, Reported Reported, string Load)
{
    public bool Untouched { get; set; } = true;
    public string UntouchedText => Scenario == "noop" ? (Untouched ? "yes" : "NO") : "";
    public string Note { get; set; } = "";
    public string Output { get; init; } = "";
}
