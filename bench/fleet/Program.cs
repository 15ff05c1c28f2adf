using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Converge.Testing.Hosts;

// Fleet benchmark (bench/README.md, "Fleet over SSH"): N throwaway sshd hosts, each behind a TcpDelayRelay
// that delays each direction, and the same desired state (a directory and R files) applied by
// `converge ssh` and by `ansible-playbook` (pipelining, forks=10). Per tool and file count: a first apply
// on an empty /srv/bench, then K timed no-op re-runs. Between tools /srv/bench is removed on every host,
// so each first apply starts from the same empty state. Everything that changes happens inside the hosts.

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string? converge = null, results = null;
int hostCount = 10, repeat = 3, delayMs = 25;
List<int> convergeCounts = [100, 1000], ansibleCounts = [100];
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    List<int> Counts() => [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
    switch (args[i])
    {
        case "--converge": converge = Next(); break;
        case "--results": results = Next(); break;
        case "--hosts": hostCount = int.Parse(Next()); break;
        case "--resources": convergeCounts = Counts(); break;
        case "--ansible-resources": ansibleCounts = Counts(); break;
        case "--repeat": repeat = int.Parse(Next()); break;
        case "--delay-ms": delayMs = int.Parse(Next()); break;
        default:
            Console.Error.WriteLine("usage: FleetBench --converge EXE --results DIR [--hosts N] [--resources 100,1000] [--ansible-resources 100] [--repeat K] [--delay-ms D]");
            return 64;
    }
}
if (results is null || converge is null || !File.Exists(converge))
{
    Console.Error.WriteLine($"FleetBench: --results DIR and --converge EXE (a published single-file converge) are required (got '{converge}')");
    return 64;
}
if (hostCount is < 1 or > 64) { Console.Error.WriteLine("FleetBench: --hosts must be 1..64 (169.254.70.0 to 169.254.70.255)"); return 64; }

const string Target = "/srv/bench";
// Names, modes, owners and sizes of every path, then one digest over every file's content.
const string StateScript = "cd " + Target + " && find . -printf '%p %m %u %g %s\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum";
var started = DateTime.UtcNow;
var rows = new List<Row>();
var notes = new List<string>();
var failed = false;
string? resultsBase = null;
var work = Directory.CreateTempSubdirectory("converge-fleetbench-");
try
{
    Console.Error.WriteLine($"starting {hostCount} hosts (169.254.70.0 onwards), relays with {delayMs} ms each way");
    await using var fleet = await Fleet.StartAsync(hostCount, new FleetOptions { AddressBlock = "169.254.70.0", NamePrefix = "fleet-" });
    var relays = fleet.Hosts.Select(h => fleet.StartRelay(h, TimeSpan.FromMilliseconds(delayMs))).ToList();
    notes.Add($"fleet up in {fleet.UpTime.TotalSeconds:0.0} s");

    // Ansible runs its modules with the host's python3; hosts see the machine's /usr through the overlay.
    foreach (var h in fleet.Hosts)
        Check(await h.Host.ShAsync("/usr/bin/python3 --version && ! command -v dotnet"), $"{h.Name}: python3 present, dotnet absent");
    Check(await fleet.SshAsync(fleet.Hosts[0], "root", "true", via: relays[0].Endpoint), "ssh through the relay"); // warm-up
    var sw = Stopwatch.StartNew();
    Check(await fleet.SshAsync(fleet.Hosts[0], "root", "true", via: relays[0].Endpoint), "ssh through the relay");
    notes.Add($"one fresh OpenSSH connection + `true` through a relay: {sw.Elapsed.TotalSeconds:0.00} s");

    var versions = new List<string>
    {
        "converge: " + (await RunAsync([converge, "--version"], null, TimeSpan.FromMinutes(1))).Stdout.Trim(),
        "ansible: " + (await RunAsync(["ansible-playbook", "--version"], new() { ["ANSIBLE_HOME"] = work.FullName + "/ah" }, TimeSpan.FromMinutes(1))).Stdout.Split('\n')[0].Trim(),
    };
    notes.AddRange(versions);

    var plan = convergeCounts.Select(n => ("converge", n)).Concat(ansibleCounts.Select(n => ("ansible", n)))
        .ToList(); // converge first: ansible's runs are the long ones
    var references = new Dictionary<int, string>();
    foreach (var (tool, n) in plan)
    {
        try
        {
            foreach (var h in fleet.Hosts) Check(await h.Host.ShAsync($"rm -rf {Target}"), "clean");
            Func<Task<Row>> runOnce = tool == "converge" ? () => Converge(fleet, relays, n) : () => Ansible(fleet, relays, n);
            var first = await Measure(tool, n, "first", 1, runOnce);
            if (first.Exit != (tool == "converge" ? 2 : 0) || first.Changed <= 0 || first.Failed != 0)
                throw new InvalidOperationException($"{tool} first apply ({n}): exit {first.Exit}, changed {first.Changed}, failed {first.Failed}\n{first.Output}");
            // Every host: the exact listing (names, modes, owners, sizes) and a digest of all contents.
            var listings = new List<string>();
            foreach (var h in fleet.Hosts)
            {
                var state = await h.Host.ShAsync(StateScript);
                Check(state, "state");
                listings.Add(state.Stdout);
                var sample = (await h.Host.ShAsync($"cat {Target}/f{n / 2:D4}.conf")).Stdout;
                if (sample != $"bench file {n / 2}\n") throw new InvalidOperationException($"{tool} ({n}): {h.Name}: sample file has '{sample}'");
            }
            if (listings.Distinct().Count() != 1) throw new InvalidOperationException($"{tool} ({n}): hosts differ after the first apply");
            var entries = listings[0].Split('\n').Count(l => l.StartsWith("./f", StringComparison.Ordinal));
            if (entries != n) throw new InvalidOperationException($"{tool} ({n}): {entries} files, not {n}");
            if (references.TryGetValue(n, out var reference))
            {
                if (reference != listings[0]) throw new InvalidOperationException($"{tool} ({n}): state differs from the other tool's:\n{reference}\n---\n{listings[0]}");
                first.Note = "same files as the other tool's on every host";
            }
            else
            {
                references[n] = listings[0];
                first.Note = $"{n} files on every host, checked";
            }

            for (var k = 1; k <= repeat; k++)
            {
                var before = await Fingerprints(fleet);
                var noop = await Measure(tool, n, "noop", k, runOnce);
                var after = await Fingerprints(fleet);
                noop.Untouched = before == after;
                if (noop.Exit != 0 || noop.Changed != 0 || noop.Failed != 0 || !noop.Untouched)
                    throw new InvalidOperationException($"{tool} no-op {k} ({n}): exit {noop.Exit}, changed {noop.Changed}, failed {noop.Failed}, untouched {noop.Untouched}\n{noop.Output}");
            }
        }
        catch (InvalidOperationException e)
        {
            failed = true;
            Console.Error.WriteLine($"!!! {e.Message}");
            notes.Add($"FAILED: {e.Message.Split('\n')[0]}");
        }
        WriteResults(); // after each step, so an interrupted run still leaves what it measured
    }
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or HostStartException)
{
    failed = true;
    Console.Error.WriteLine($"!!! {e}");
    notes.Add($"FAILED: {e.Message.Split('\n')[0]}");
}
finally
{
    work.Delete(recursive: true);
}
var md = WriteResults();
Console.Error.WriteLine($"results: {md}");
return failed ? 1 : 0;

async Task<Row> Converge(Fleet fleet, List<TcpDelayRelay> relays, int n)
{
    var repo = Path.Combine(work.FullName, $"repo-{n}");
    if (!Directory.Exists(repo))
    {
        Directory.CreateDirectory(repo);
        var site = new StringBuilder("nodes:\n  - match: \"*\"\n    resources:\n");
        site.Append($"      - directory: {Target}\n        mode: \"0755\"\n");
        for (var f = 1; f <= n; f++)
            site.Append($"      - file: {Target}/f{f:D4}.conf\n        content: \"bench file {f}\\n\"\n        mode: \"0644\"\n");
        File.WriteAllText(Path.Combine(repo, "site.yaml"), site.ToString());
    }
    var inventory = Path.Combine(work.FullName, "inventory.yaml");
    if (!File.Exists(inventory))
        File.WriteAllText(inventory, $"defaults:\n  user: root\n  identity: {fleet.ClientKeyPath}\nhosts:\n" + string.Concat(
            fleet.Hosts.Select((h, i) => $"  {h.Name}:\n    address: {relays[i].Endpoint.Address}\n    port: {relays[i].Endpoint.Port}\n")));
    // The published converge is a self-contained single-file build for linux-x64: it ships itself.
    var run = await RunAsync(["/usr/bin/time", "-f", "%e %U %S", "-o", Path.Combine(work.FullName, "time"), converge!, "ssh",
        "--inventory", inventory, "--manifests", repo, "--known-hosts", fleet.KnownHostsPath, "--parallel", "10",
        "--connect-timeout", "20", "--report-dir", Path.Combine(work.FullName, "reports")],
        new() { ["NO_COLOR"] = "1" }, TimeSpan.FromMinutes(30));
    var table = HostRow().Matches(run.Stdout).ToList();
    var perHost = table.Select(m => double.Parse(m.Groups[4].Value)).ToList();
    var ok = table.Count == fleet.Hosts.Count && table.All(m => m.Groups[5].Value.Trim() is "ok" or "changed");
    return Timed(run, changed: ok ? table.Sum(m => int.Parse(m.Groups[2].Value)) : -1,
        failed: ok ? table.Sum(m => int.Parse(m.Groups[3].Value)) : fleet.Hosts.Count, perHost) with { Phases = Phases(run.Stdout) };
}

async Task<Row> Ansible(Fleet fleet, List<TcpDelayRelay> relays, int n)
{
    var dir = Path.Combine(work.FullName, "ansible");
    if (!Directory.Exists(dir))
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "ansible.cfg"), "[defaults]\nforks = 10\nhost_key_checking = True\nretry_files_enabled = False\nnocolor = True\n" +
            "interpreter_python = /usr/bin/python3\n\n[ssh_connection]\npipelining = True\n");
        File.WriteAllText(Path.Combine(dir, "hosts.ini"), "[fleet]\n" + string.Concat(fleet.Hosts.Select((h, i) =>
            $"{h.Name} ansible_host={relays[i].Endpoint.Address} ansible_port={relays[i].Endpoint.Port}\n")) +
            $"\n[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file={fleet.ClientKeyPath}\n" +
            $"ansible_ssh_common_args=-F /dev/null -o IdentitiesOnly=yes -o UserKnownHostsFile={fleet.KnownHostsPath} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes\n");
    }
    var playbook = Path.Combine(dir, $"playbook-{n}.yml");
    File.WriteAllText(playbook, $$$"""
        - hosts: fleet
          gather_facts: false
          tasks:
            - name: directory
              file: { path: {{{Target}}}, state: directory, mode: "0755" }
            - name: files
              copy:
                dest: "{{{Target}}}/f{{ '%04d' | format(item) }}.conf"
                content: "bench file {{ item }}\n"
                mode: "0644"
              loop: "{{ range(1, {{{n}}} + 1) | list }}"
        """);
    var env = new Dictionary<string, string?>
    {
        ["ANSIBLE_CONFIG"] = Path.Combine(dir, "ansible.cfg"), ["ANSIBLE_HOME"] = Path.Combine(dir, "home"),
        ["ANSIBLE_LOCAL_TEMP"] = Path.Combine(dir, "tmp"), ["NO_COLOR"] = "1",
    };
    var run = await RunAsync(["/usr/bin/time", "-f", "%e %U %S", "-o", Path.Combine(work.FullName, "time"), "ansible-playbook",
        "-i", Path.Combine(dir, "hosts.ini"), playbook], env, TimeSpan.FromMinutes(60));
    var recap = AnsibleRecap().Matches(run.Stdout).ToList();
    var ok = recap.Count == fleet.Hosts.Count;
    // changed = per-item changes (a loop item that changed counts once per host), from the per-item lines.
    var changedItems = Regex.Matches(run.Stdout, @"^changed: \[", RegexOptions.Multiline).Count;
    var recapChanged = recap.Sum(m => int.Parse(m.Groups[2].Value));
    return Timed(run, changed: ok ? (recapChanged == 0 ? 0 : changedItems) : -1,
        failed: ok ? recap.Sum(m => int.Parse(m.Groups[3].Value) + int.Parse(m.Groups[4].Value)) : fleet.Hosts.Count, []);
}

// Where each host's time went: the median over hosts of each phase converge ssh records in the saved
// reports ("ssh": {"timings": …}, docs/ssh.md), e.g. "connect 0.52, probe 0.06, run 1.01 (remote 0.45)".
string Phases(string stdout)
{
    var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("reports: ", StringComparison.Ordinal));
    if (line is null || !Directory.Exists(line["reports: ".Length..])) return "";
    var timings = Directory.GetFiles(line["reports: ".Length..], "*.json")
        .Select(f => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f))?["ssh"]?["timings"]).Where(t => t is not null).ToList();
    string? Phase(string name)
    {
        var values = timings.Select(t => (double?)t![name]).Where(v => v is not null).Select(v => v!.Value).ToList();
        return values.Count == 0 ? null : $"{name} {Median(values):0.00}";
    }
    return string.Join(", ", new[] { "connect", "probe", "upload", "run", "remote" }.Select(Phase).Where(p => p is not null));
}

Row Timed(ProcessResult run, int changed, int failed, List<double> perHost)
{
    var fields = File.ReadAllLines(Path.Combine(work.FullName, "time"))[^1].Split(' ');
    return new Row("", 0, "", 0, double.Parse(fields[0]), double.Parse(fields[1]) + double.Parse(fields[2]), run.Exit, changed, failed, "")
    { PerHost = perHost, Output = run.Stdout + "\n" + run.Stderr };
}

async Task<Row> Measure(string tool, int n, string scenario, int k, Func<Task<Row>> runOnce)
{
    var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
    var r = await runOnce();
    var row = r with { Tool = tool, Resources = n, Scenario = scenario, Run = k, Load = load };
    rows.Add(row);
    var perHost = row.PerHost.Count > 0 ? $"  per host {row.PerHost.Min():0.0}–{row.PerHost.Max():0.0} s" : "";
    Console.Error.WriteLine($"{tool,-9} {n,5} {scenario,-6} {k,2}  {row.Wall,7:0.00} s  {row.Cpu,7:0.00} cpu-s  exit {row.Exit}  " +
                            $"changed {row.Changed}  failed {row.Failed}{perHost}  load {load}");
    return row;
}

// inode, ctime and mtime of the directory and every file: a no-op run must leave them all alone.
static async Task<string> Fingerprints(Fleet fleet)
{
    var all = new StringBuilder();
    foreach (var h in fleet.Hosts)
        all.Append((await h.Host.ShAsync($"find {Target} -printf '%p %i %C@ %T@\\n' | sort")).Stdout);
    return all.ToString();
}

static void Check(HostCommandResult result, string what)
{
    if (result.ExitCode != 0) throw new InvalidOperationException($"{what} failed: {result}");
}

static async Task<ProcessResult> RunAsync(IReadOnlyList<string> argv, Dictionary<string, string?>? env, TimeSpan timeout)
{
    var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
    foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
    foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
    using var p = Process.Start(psi)!;
    p.StandardInput.Close();
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEndAsync();
    using var cts = new CancellationTokenSource(timeout);
    try { await p.WaitForExitAsync(cts.Token); }
    catch (OperationCanceledException)
    {
        p.Kill(entireProcessTree: true);
        throw new TimeoutException($"{string.Join(' ', argv)} ran longer than {timeout}");
    }
    return new ProcessResult(p.ExitCode, await stdout, await stderr);
}

string WriteResults()
{
    Directory.CreateDirectory(results!);
    var stamp = started.ToString("yyyy-MM-dd");
    if (resultsBase is null)
    {
        resultsBase = Path.Combine(results!, $"{stamp}-fleet");
        for (var n = 2; File.Exists(resultsBase + ".md"); n++) resultsBase = Path.Combine(results!, $"{stamp}-fleet-{n}");
    }
    var basePath = resultsBase;
    var csv = new StringBuilder("tool,resources,scenario,run,wall_s,cpu_s,exit,changed,failed,untouched,per_host_min_s,per_host_max_s,load1,note\n");
    foreach (var r in rows)
        csv.Append($"{r.Tool},{r.Resources},{r.Scenario},{r.Run},{r.Wall:0.00},{r.Cpu:0.00},{r.Exit},{r.Changed},{r.Failed},{r.UntouchedText}," +
                   $"{(r.PerHost.Count > 0 ? r.PerHost.Min().ToString("0.0") : "")},{(r.PerHost.Count > 0 ? r.PerHost.Max().ToString("0.0") : "")},{r.Load},{r.Note}\n");
    File.WriteAllText(basePath + ".csv", csv.ToString());

    var md = new StringBuilder($"# Fleet benchmark, {stamp}\n\n");
    md.Append($"- started: {started:yyyy-MM-dd HH:mm:ss} UTC; command: bench/fleet/run.sh {Environment.GetEnvironmentVariable("BENCH_ARGS")}\n");
    md.Append($"- machine: {Environment.ProcessorCount} cores, {CpuModel()}, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}\n");
    md.Append($"- fleet: {hostCount} throwaway sshd hosts (no dotnet; python3 from the machine's /usr), each behind a TcpDelayRelay adding {delayMs} ms each way\n");
    md.Append($"- desired state per host: directory {Target} (0755) and R files {Target}/fNNNN.conf, content `bench file N\\n`, mode 0644\n");
    md.Append("- converge: `converge ssh --parallel 10`, one connection per host, root; ansible: `ansible-playbook`, forks=10, pipelining, gather_facts: false, one `copy` loop\n");
    foreach (var note in notes) md.Append("- ").Append(note).Append('\n');
    md.Append("\nwall = elapsed seconds of the whole fleet run on the machine; cpu = user + system seconds of the client's process tree\n");
    md.Append("(/usr/bin/time; the hosts' own CPU is not in it); changed = resources (converge) or loop items (ansible) changed over all\n");
    md.Append("hosts; per host = converge's DURATION column; untouched = inode, ctime, mtime of every managed path on every host unchanged.\n\n");
    md.Append("## Summary (no-op re-run: median)\n\n| tool | files/host | first apply s | no-op s (median) | no-op min–max s | no-op per host s (median of host durations) | runs |\n|---|---:|---:|---:|---:|---:|---:|\n");
    foreach (var g in rows.GroupBy(r => (r.Tool, r.Resources)))
    {
        var first = g.FirstOrDefault(r => r.Scenario == "first");
        var noop = g.Where(r => r.Scenario == "noop" && r.Untouched && r.Exit == 0).ToList();
        var perHost = noop.SelectMany(r => r.PerHost).ToList();
        md.Append($"| {g.Key.Tool} | {g.Key.Resources} | {first?.Wall:0.00} | " +
                  (noop.Count == 0 ? "(none valid) | | | 0 |\n" :
                  $"{Median(noop.Select(r => r.Wall)):0.00} | {noop.Min(r => r.Wall):0.00}–{noop.Max(r => r.Wall):0.00} | {(perHost.Count > 0 ? Median(perHost).ToString("0.0") : "–")} | {noop.Count} |\n"));
    }
    foreach (var n in rows.Select(r => r.Resources).Distinct())
    {
        var c = rows.Where(r => r.Tool == "converge" && r.Resources == n && r.Scenario == "noop").Select(r => r.Wall).ToList();
        var a = rows.Where(r => r.Tool == "ansible" && r.Resources == n && r.Scenario == "noop").Select(r => r.Wall).ToList();
        if (c.Count > 0 && a.Count > 0)
            md.Append($"\nNo-op re-run, {n} files per host: ansible / converge = {Median(a):0.00} / {Median(c):0.00} = **{Median(a) / Median(c):0.0}×**.\n");
    }
    var phased = rows.Where(r => r.Phases.Length > 0).ToList();
    if (phased.Count > 0)
    {
        md.Append("\n## converge: per-host phases (seconds, median over the hosts of each run)\n\n");
        md.Append("connect = TCP + SSH handshake + host key + auth (through the relay); probe = uname and the binary cache; upload = the binary, when not cached; ");
        md.Append("run = the bundle-and-apply command as the client sees it; remote = the remote converge's own run (its report's durationMs).\n\n");
        md.Append("| files/host | scenario | run | phases |\n|---:|---|---:|---|\n");
        foreach (var r in phased) md.Append($"| {r.Resources} | {r.Scenario} | {r.Run} | {r.Phases} |\n");
    }
    md.Append("\n## Every run\n\n| tool | files/host | scenario | run | wall s | cpu s | exit | changed | failed | untouched | per host min–max s | load1 | note |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---:|---|\n");
    foreach (var r in rows)
        md.Append($"| {r.Tool} | {r.Resources} | {r.Scenario} | {r.Run} | {r.Wall:0.00} | {r.Cpu:0.00} | {r.Exit} | {r.Changed} | {r.Failed} | {r.UntouchedText} | " +
                  $"{(r.PerHost.Count > 0 ? $"{r.PerHost.Min():0.0}–{r.PerHost.Max():0.0}" : "")} | {r.Load} | {r.Note} |\n");
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
    // converge ssh's table row: HOST CHANGED FAILED DURATION STATUS
    [GeneratedRegex(@"^(fleet-\d+)\s+(\d+)\s+(\d+)\s+([0-9.]+)s\s+(.+)$", RegexOptions.Multiline)]
    private static partial Regex HostRow();

    [GeneratedRegex(@"^(fleet-\d+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", RegexOptions.Multiline)]
    private static partial Regex AnsibleRecap();
}

sealed record ProcessResult(int Exit, string Stdout, string Stderr);

/// <summary>One timed fleet run.</summary>
sealed record Row(string Tool, int Resources, string Scenario, int Run, double Wall, double Cpu, int Exit, int Changed, int Failed, string Load)
{
    public bool Untouched { get; set; } = true;
    public string UntouchedText => Scenario == "noop" ? (Untouched ? "yes" : "NO") : "";
    public string Note { get; set; } = "";
    public List<double> PerHost { get; init; } = [];
    public string Phases { get; init; } = "";
    public string Output { get; init; } = "";
}
