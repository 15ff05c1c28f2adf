using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Converge.Remote;

/// <summary>What <c>converge ssh</c> asks of every host in a run.</summary>
public sealed record RemoteRunOptions
{
    public required SshOptions Ssh { get; init; }
    public required PayloadLocator Payloads { get; init; }
    public required Bundle Bundle { get; init; }

    /// <summary>Preview: the remote run is <c>converge apply --noop</c>.</summary>
    public bool Noop { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Remove the cached binary from each host after its run.</summary>
    public bool Clean { get; init; }

    /// <summary>Overrides the host's binary cache directory (default /var/cache/converge/bin as root, else ~/.cache/converge/bin).</summary>
    public string? RemoteCacheDir { get; init; }

    /// <summary>Directory the hosts' reports are saved under: <c>DIR/&lt;run id&gt;/&lt;host&gt;.json</c>.</summary>
    public required string ReportDir { get; init; }

    /// <summary>This fleet run's id (one report per host per run).</summary>
    public required string RunId { get; init; }

    /// <summary>
    /// Who pushes the run, as <c>user@machine</c> of the operator's side: each host's report records it
    /// in <c>who.operator</c> (the remote user is often a shared <c>deploy</c> or root). Null: not passed.
    /// </summary>
    public string? Operator { get; init; }
}

/// <summary>One host's outcome, as the table shows it.</summary>
public sealed record HostResult(InventoryHost Host, HostStatus Status, TimeSpan Duration)
{
    public int Changed { get; init; }
    public int Failed { get; init; }
    public int Total { get; init; }

    /// <summary>The remote converge's exit code, when it ran to the end.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Why the host failed (never a secret: the remote report is redacted at the source).</summary>
    public string? Message { get; init; }

    /// <summary>The remote run's report, saved locally.</summary>
    public string? ReportPath { get; init; }

    /// <summary>The report itself (changes and diffs of each resource) for the per-host detail view.</summary>
    public JsonObject? Report { get; init; }

    /// <summary>Where the host's time went, phase by phase (phases not reached are null).</summary>
    public HostTimings Timings { get; init; } = new();
}

/// <summary>How long each phase of one host's run took.</summary>
public sealed record HostTimings
{
    /// <summary>TCP connect, SSH handshake, host key check and authentication.</summary>
    public TimeSpan? Connect { get; init; }

    /// <summary>The probe command (architecture, cached binaries).</summary>
    public TimeSpan? Probe { get; init; }

    /// <summary>Uploading the converge binary; null when the host had it cached.</summary>
    public TimeSpan? Upload { get; init; }

    /// <summary>The apply channel: sending the bundle, the remote converge run, its report coming back.</summary>
    public TimeSpan? Run { get; init; }

    /// <summary>Of <see cref="Run"/>, the remote converge's own run as its report says (<c>durationMs</c>).</summary>
    public TimeSpan? Remote { get; init; }

    /// <summary><c>connect 0.31s, probe 0.05s, upload 1.20s, run 2.10s (remote 1.80s)</c>: the phases reached.</summary>
    public override string ToString()
    {
        static string S(TimeSpan t) => t.TotalSeconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "s";
        var parts = new List<string>();
        if (Connect is { } c) parts.Add("connect " + S(c));
        if (Probe is { } p) parts.Add("probe " + S(p));
        if (Upload is { } u) parts.Add("upload " + S(u));
        if (Run is { } r) parts.Add("run " + S(r) + (Remote is { } rm ? $" (remote {S(rm)})" : ""));
        return string.Join(", ", parts);
    }

    /// <summary>The phases in seconds, for the saved report.</summary>
    public JsonObject ToJson()
    {
        static JsonNode? Sec(TimeSpan? t) => t is { } v ? JsonValue.Create(Math.Round(v.TotalSeconds, 3)) : null;
        return new JsonObject
        {
            ["connect"] = Sec(Connect), ["probe"] = Sec(Probe), ["upload"] = Sec(Upload), ["run"] = Sec(Run), ["remote"] = Sec(Remote),
        };
    }
}

/// <summary>Progress of one host, for the live view.</summary>
public sealed record HostProgress(string Host, string Phase, int Done = 0, int Total = 0);

/// <summary>
/// Converges one host over one SSH connection in three round trips whatever the number of resources:
/// probe (architecture and cached binaries), upload the binary when the cache lacks it, then one channel
/// that unpacks the bundle, runs <c>converge apply --events jsonl</c> and removes the bundle. Never throws
/// for a host problem: the result's status says what went wrong.
/// </summary>
public sealed class RemoteRun(RemoteRunOptions options)
{
    /// <summary>
    /// Runs <paramref name="host"/>; reports phases to <paramref name="progress"/>. <paramref name="interrupt"/>
    /// is Ctrl-C: before the remote run starts, the host is left (not started); during it, the remote
    /// converge is interrupted as a local one is (the running resource finishes, the rest are skipped,
    /// it reports) and this waits for its report.
    /// </summary>
    public async Task<HostResult> RunAsync(InventoryHost host, Action<HostProgress> progress, CancellationToken interrupt)
    {
        var clock = Stopwatch.StartNew();
        var timings = new HostTimings();
        var lap = Stopwatch.StartNew();
        TimeSpan Lap()
        {
            var t = lap.Elapsed;
            lap.Restart();
            return t;
        }
        try
        {
            progress(new HostProgress(host.Name, "connecting"));
            // Connecting is not cut short by Ctrl-C (it is bounded by --connect-timeout); what follows is skipped.
            using var session = await SshSession.ConnectAsync(host, options.Ssh, CancellationToken.None);
            timings = timings with { Connect = Lap() };
            var root = host.Become || host.User == "root";
            var cacheDir = options.RemoteCacheDir is { } custom ? Shell.Quote(custom)
                : root ? "/var/cache/converge/bin" : "\"${XDG_CACHE_HOME:-$HOME/.cache}/converge/bin\"";

            progress(new HostProgress(host.Name, "probing"));
            var probe = await session.RunAsync(Wrap(host, RemoteScripts.Probe(cacheDir)), null, null);
            timings = timings with { Probe = Lap() };
            CheckSudo(host, probe);
            if (probe.ExitCode != 0)
                throw new RemoteException(HostStatus.Failed, $"probing the host failed (exit {Describe(probe)}): {Tail(probe.StderrTail)}");
            var lines = probe.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var machine = lines.FirstOrDefault() ?? "";
            var rid = PayloadLocator.RidFor(machine)
                ?? throw new RemoteException(HostStatus.Failed, $"architecture '{machine.Trim()}' is not one Converge is built for (x86_64, aarch64)");
            var payload = options.Payloads.Find(rid)
                ?? throw new RemoteException(HostStatus.Failed,
                    $"no converge build for {rid}: publish one (dotnet publish src/Converge.Cli -c Release -r {rid} --self-contained -p:PublishSingleFile=true -o DIR) " +
                    $"and pass --payload-dir DIR; looked at {string.Join(", ", options.Payloads.Candidates(rid))}");
            var cached = lines.Skip(1).Any(l => l == $"{payload.CacheName} {payload.Size}");

            if (!cached)
            {
                progress(new HostProgress(host.Name, $"uploading converge ({payload.Size / 1048576.0:0} MB)"));
                var upload = await session.RunAsync(Wrap(host, RemoteScripts.Upload(cacheDir, payload.CacheName)), async input =>
                {
                    await using var file = File.OpenRead(payload.Path);
                    await file.CopyToAsync(input, 256 * 1024);
                }, null);
                timings = timings with { Upload = Lap() };
                CheckSudo(host, upload);
                if (upload.ExitCode != 0)
                    throw new RemoteException(HostStatus.Failed, $"uploading converge to {cacheDir} failed (exit {Describe(upload)}): {Tail(upload.StderrTail)}");
            }

            if (interrupt.IsCancellationRequested)
            {
                progress(new HostProgress(host.Name, "done"));
                return new HostResult(host, HostStatus.NotStarted, clock.Elapsed) { Message = "interrupted before converging", Timings = timings };
            }
            progress(new HostProgress(host.Name, "converging"));
            JsonObject? report = null;
            int done = 0, total = 0, changed = 0, failed = 0;
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var bundleLength = await options.Bundle.MeasureAsync(host.Vars, CancellationToken.None);
            lap.Restart();
            var run = await session.RunAsync(Wrap(host, RemoteScripts.Apply(cacheDir, payload.CacheName, options, host, bundleLength)),
                input => options.Bundle.WriteExactAsync(input, host.Vars, bundleLength, CancellationToken.None),
                line =>
                {
                    if (!line.StartsWith('{')) return;
                    JsonObject? e;
                    try { e = JsonNode.Parse(line) as JsonObject; }
                    catch (JsonException) { return; }
                    switch ((string?)e?["event"])
                    {
                        case "start":
                            total = (int?)e["total"] ?? 0;
                            started.TrySetResult();
                            break;
                        case "resource":
                            done = (int?)e["done"] ?? done;
                            total = (int?)e["total"] ?? total;
                            var status = (string?)e["resource"]?["status"];
                            if (status is "changed" or "would-change" or "unknown") changed++;
                            if (status is "failed") failed++;
                            break;
                        case "report":
                            report = e["report"] as JsonObject;
                            break;
                    }
                    progress(new HostProgress(host.Name, "converging", done, total));
                },
                (input, finished) => ForwardInterruptAsync(input, finished, started.Task, interrupt));
            timings = timings with { Run = Lap() };
            CheckSudo(host, run);

            string? reportPath = null;
            if (report is not null)
            {
                var summary = report["summary"];
                changed = ((int?)summary?["changed"] ?? 0) + ((int?)summary?["wouldChange"] ?? 0) + ((int?)summary?["unknown"] ?? 0);
                failed = (int?)summary?["failed"] ?? 0;
                total = (int?)summary?["total"] ?? total;
                if ((double?)report["durationMs"] is { } ms) timings = timings with { Remote = TimeSpan.FromMilliseconds(ms) };
            }
            var exit = run.ExitCode;
            var interrupted = report is not null && (bool?)report["interrupted"] == true;
            var hostStatus = exit switch
            {
                _ when interrupted => HostStatus.Interrupted,
                0 when report is not null => HostStatus.Ok,
                2 when report is not null => HostStatus.Changed,
                _ => HostStatus.Failed,
            };
            string? message = null;
            if (hostStatus == HostStatus.Interrupted)
            {
                var skipped = (int?)report!["summary"]?["skipped"] ?? 0;
                message = $"Ctrl-C: the running resource finished, {skipped} skipped" + (failed > 0 ? $", {failed} failed" : "");
            }
            else if (hostStatus == HostStatus.Failed)
            {
                message = report is null
                    ? $"remote converge ended with {Describe(run)} before its report:\n{Tail(run.StderrTail + "\n" + NonEvents(run.Stdout))}"
                    : failed > 0 ? $"{failed} resource{(failed == 1 ? "" : "s")} failed" : $"remote converge exit {exit}";
            }
            if (report is not null)
            {
                // What only this side knows goes with the saved report: the host's row in the table and where its time went.
                report["ssh"] = new JsonObject { ["status"] = HostStatusText.Name(hostStatus), ["timings"] = timings.ToJson() };
                reportPath = SaveReport(host, report);
            }
            progress(new HostProgress(host.Name, "done", done, total));
            return new HostResult(host, hostStatus, clock.Elapsed)
            {
                Changed = changed, Failed = failed, Total = total, ExitCode = exit, Message = message, ReportPath = reportPath, Report = report,
                Timings = timings,
            };
        }
        catch (RemoteException e)
        {
            progress(new HostProgress(host.Name, "done"));
            return new HostResult(host, e.Status, clock.Elapsed) { Message = e.Message, Timings = timings };
        }
        catch (Exception e)
        {
            // A dropped connection mid-run, or anything else unforeseen: that host's failure, never the fleet's.
            progress(new HostProgress(host.Name, "done"));
            var status = e is Renci.SshNet.Common.SshConnectionException or System.Net.Sockets.SocketException ? HostStatus.Unreachable : HostStatus.Failed;
            return new HostResult(host, status, clock.Elapsed) { Message = $"{e.GetType().Name}: {e.Message}", Timings = timings };
        }
    }

    /// <summary>
    /// Keeps the apply command's input open while it runs; on Ctrl-C writes the interrupt line the host's
    /// watcher waits for (<see cref="RemoteScripts.Apply"/>). Not before converge's start event: from then
    /// on it handles SIGINT (its handler is installed before the command runs), while a signal during the
    /// runtime's own start-up would kill it without a report.
    /// </summary>
    private static async Task ForwardInterruptAsync(Stream input, Task finished, Task started, CancellationToken interrupt)
    {
        var interrupted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (interrupt.Register(() => interrupted.TrySetResult()))
            if (await Task.WhenAny(finished, interrupted.Task) == finished) return;
        if (await Task.WhenAny(finished, started) == finished) return;
        await input.WriteAsync(System.Text.Encoding.ASCII.GetBytes(RemoteScripts.InterruptLine));
        await input.FlushAsync();
        await Task.WhenAny(finished);
    }

    private string SaveReport(InventoryHost host, JsonObject report)
    {
        var dir = Path.Combine(options.ReportDir, options.RunId);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, host.Name.Replace('/', '_') + ".json");
        var temp = path + ".tmp";
        File.WriteAllText(temp, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>The command line for a script: through <c>sudo -n</c> (never prompting) when the host needs become.</summary>
    private static string Wrap(InventoryHost host, string script) =>
        (host.Become && host.User != "root" ? "sudo -n " : "") + "sh -c " + Shell.Quote(script);

    private static void CheckSudo(InventoryHost host, ExecResult r)
    {
        if (host.Become && r.ExitCode == 1 && r.StderrTail.Contains("sudo:", StringComparison.Ordinal)
            && (r.StderrTail.Contains("password is required", StringComparison.Ordinal) || r.StderrTail.Contains("a terminal is required", StringComparison.Ordinal)))
            throw new RemoteException(HostStatus.SudoNeedsPassword,
                $"{host.Endpoint}: sudo asks {host.User} for a password; converge runs 'sudo -n' and never types one. " +
                $"Give {host.User} NOPASSWD sudo (e.g. '{host.User} ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/) or connect as root");
        if (host.Become && r.ExitCode == 1 && r.StderrTail.Contains("is not in the sudoers file", StringComparison.Ordinal))
            throw new RemoteException(HostStatus.SudoNeedsPassword, $"{host.Endpoint}: {host.User} may not use sudo: {Tail(r.StderrTail)}");
    }

    private static string Describe(ExecResult r) => r.Signal is { } s ? $"signal {s}" : r.ExitCode is { } c ? $"exit {c}" : "no exit status";

    private static string NonEvents(string stdout) =>
        string.Join('\n', stdout.Split('\n').Where(l => !l.StartsWith("{\"event\"", StringComparison.Ordinal)));

    /// <summary>The last lines of a command's output: enough to see why it died.</summary>
    public static string Tail(string text, int lines = 15)
    {
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        return string.Join('\n', all.Skip(Math.Max(0, all.Count - lines)));
    }
}

/// <summary>The shell scripts run on hosts. POSIX sh and coreutils only: nothing else is assumed.</summary>
public static class RemoteScripts
{
    /// <summary>Prints <c>uname -m</c>, then <c>NAME SIZE</c> for each cached converge binary.</summary>
    public static string Probe(string cacheDir) =>
        $"uname -m; c={cacheDir}; for f in \"$c\"/converge-*; do [ -f \"$f\" ] && echo \"${{f##*/}} $(wc -c < \"$f\")\"; done; exit 0";

    /// <summary>
    /// Writes standard input to a temp file in the cache, makes it executable, then renames it to its
    /// sha256 name: a partial upload never carries the final name, so a name means a complete binary.
    /// </summary>
    public static string Upload(string cacheDir, string name) =>
        $"set -e; c={cacheDir}; mkdir -p \"$c\"; t=$(mktemp \"$c/.upload.XXXXXX\"); trap 'rm -f \"$t\"' EXIT; " +
        $"cat > \"$t\"; chmod 0755 \"$t\"; mv -f \"$t\" \"$c/{name}\"; trap - EXIT";

    /// <summary>
    /// Unpacks the bundle (the first <paramref name="bundleLength"/> bytes of standard input) into a fresh
    /// temp dir, runs converge apply there with the host's vars and the shipped modules, removes the temp
    /// dir whatever happens, exits with apply's code.
    /// </summary>
    /// <remarks>
    /// The rest of standard input is the interrupt line: a watcher started beside converge waits for a
    /// line (the client's first Ctrl-C) or end of input (the client gone: the connection dropped, or a
    /// second Ctrl-C ended it) and sends converge SIGINT, so it finishes the running resource, skips
    /// the rest and reports, as a local Ctrl-C does. An SSH "signal" request would not do (tried on
    /// OpenSSH 9.2: sshd refuses it for root logins, "session signalling requires privilege separation",
    /// and through sudo it reaches only sudo's child shell); a line on the input works with any sshd and
    /// through sudo, and its end covers a lost client too. Converge runs in the foreground: a background
    /// job of a non-interactive sh starts with SIGINT ignored, which .NET keeps. The watcher lives in the small sh that becomes
    /// converge (<c>exec</c>), so its <c>$$</c> is converge's pid; it never exits on its own (after the
    /// signal it sleeps), so the pid the outer shell kills once converge has exited is still the watcher's.
    /// </remarks>
    public static string Apply(string cacheDir, string name, RemoteRunOptions options, InventoryHost host, long bundleLength)
    {
        var args = new List<string> { "apply", "--events", "jsonl", "--color", "never", "--vars-file", "\"$d/.converge/vars.json\"" };
        if (options.Noop) args.Add("--noop");
        if (options.Tags.Count > 0) { args.Add("--tags"); args.Add(Shell.Quote(string.Join(',', options.Tags))); }
        if (host.Node is { } node) { args.Add("--node"); args.Add(Shell.Quote(node)); }
        if (options.Operator is { } op) { args.Add("--operator"); args.Add(Shell.Quote(op)); }
        args.Add("\"$d/\"" + Shell.Quote(options.Bundle.ApplyPath));
        var modules = string.Join(':', Enumerable.Range(0, options.Bundle.ModuleDirCount).Select(i => $"$d/.converge/modules/{i}"));
        var clean = options.Clean ? "rm -f \"$c\"/converge-*; rmdir \"$c\" 2>/dev/null; " : "";
        const string watcher = "exec 3<&0; { read -r l <&3; kill -INT $$; exec sleep 2147483647; } </dev/null >/dev/null 2>&1 & echo $! > \"$0/.watcher\"; exec \"$@\" </dev/null 3<&-";
        return $"c={cacheDir}; d=$(mktemp -d \"${{TMPDIR:-/tmp}}/converge-run.XXXXXX\") || exit 97; trap 'rm -rf \"$d\"' EXIT; " +
               $"head -c {bundleLength} | tar -xf - -C \"$d\" || {{ echo 'converge ssh: could not unpack the manifest bundle' >&2; exit 98; }}; " +
               $"CONVERGE_MODULE_PATH=\"{modules}\" sh -c {Shell.Quote(watcher)} \"$d\" \"$c/{name}\" {string.Join(' ', args)}; rc=$?; " +
               $"kill \"$(cat \"$d/.watcher\" 2>/dev/null)\" 2>/dev/null; {clean}exit $rc";
    }

    /// <summary>What the client writes after the bundle to interrupt the remote run (any line does).</summary>
    public const string InterruptLine = "interrupt\n";
}

/// <summary>POSIX shell quoting.</summary>
public static class Shell
{
    /// <summary>Single-quotes <paramref name="s"/> so sh reads it back unchanged.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
