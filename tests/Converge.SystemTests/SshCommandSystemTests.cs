using System.Diagnostics;
using System.Text.Json.Nodes;
using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// <c>converge ssh</c> end to end: real sshd hosts with their own network namespaces and no dotnet
/// (<see cref="Fleet"/>), the published single-file converge shipped to them, the CLI run as a user runs
/// it. Address blocks used here: 169.254.60.0 to 169.254.63.255.
/// </summary>
[Collection(nameof(MachineLeakTests))]
public class SshCommandSystemTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("converge-ssh-");

    public void Dispose() => _work.Delete(recursive: true);

    /// <summary>A manifest repo: the shipped motd module, and a repo module whose template reads inventory vars.</summary>
    private string WriteRepo(string extraNodes = "")
    {
        var repo = Path.Combine(_work.FullName, "repo");
        Directory.CreateDirectory(Path.Combine(repo, "modules", "app", "templates"));
        File.WriteAllText(Path.Combine(repo, "site.yaml"), $$"""
            vars:
              greeting: hello
            nodes:
            {{extraNodes}}
              - match: "*"
                include:
                  - motd: { message: "managed by converge ssh" }
                  - app
            """);
        File.WriteAllText(Path.Combine(repo, "modules", "app", "module.yaml"), """
            resources:
              - directory: /srv/app
              - file: /srv/app/app.conf
                template: app.conf.sbn
                mode: "0640"
            """);
        File.WriteAllText(Path.Combine(repo, "modules", "app", "templates", "app.conf.sbn"),
            "greeting={{ vars.greeting }}\nregion={{ vars.region }}\nport={{ vars.http_port }}\nnode={{ node }}\nlist={{ vars.tags | array.join \",\" }}\n");
        return repo;
    }

    private string WriteInventory(Fleet fleet, string hosts)
    {
        var path = Path.Combine(_work.FullName, "inventory.yaml");
        File.WriteAllText(path, $"""
            defaults:
              user: root
              identity: {fleet.ClientKeyPath}
              vars:
                region: eu-west
                tags: [a, b]
            groups:
              web:
                vars:
                  http_port: 8080
            hosts:
            {hosts}
            """);
        return path;
    }

    private async Task<ConvergeRun> SshAsync(Fleet fleet, string inventory, string repo, params string[] extra)
    {
        var payload = await SshPayload.DirectoryAsync();
        string[] args = ["ssh", "--inventory", inventory, "--manifests", repo, "--known-hosts", fleet.KnownHostsPath,
            "--payload-dir", payload, "--report-dir", Path.Combine(_work.FullName, "reports"), "--connect-timeout", "5", .. extra];
        var run = await Task.Run(() => ConvergeProcess.Run(args, timeout: TimeSpan.FromMinutes(5)));
        output.WriteLine($"$ converge {string.Join(' ', args)}\n{run}");
        return run;
    }

    [Fact]
    public async Task Fleet_NoopThenApplyThenReapply_ConvergesEveryHostOnceAndVarsReachTemplates()
    {
        await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(3, new FleetOptions { AddressBlock = "169.254.60.0", NamePrefix = "web-" });
        var repo = WriteRepo();
        var h = fleet.Hosts;
        var inventory = WriteInventory(fleet, $"""
              web-1:
                address: {h[0].Address}
                groups: [web]
                vars: {"{"} http_port: 8081 {"}"}
              web-2:
                address: {h[1].Address}
                user: deploy
                become: true
                groups: [web]
              web-3:
                address: {h[2].Address}
                user: deploy
                become: true
                vars: {"{"} http_port: 9000, greeting: "hi there" {"}"}
            """);

        var noop = await SshAsync(fleet, inventory, repo, "--noop");
        noop.ExitCode.ShouldBe(2, noop.ToString());
        noop.Stdout.ShouldContain("would-change: file[/srv/app/app.conf]");
        noop.Stdout.ShouldContain("+greeting=hi there"); // the diff of web-3's file
        foreach (var host in h)
            (await host.Host.ShAsync("test -e /srv/app || test -e /etc/motd.converge; echo $?")).Stdout.ShouldBe("1\n", "--noop changed nothing");

        var first = await SshAsync(fleet, inventory, repo);
        first.ExitCode.ShouldBe(2, first.ToString());
        foreach (var name in new[] { "web-1", "web-2", "web-3" })
            first.Stdout.ShouldMatch($@"(?m)^{name}\s+[1-9]\d*\s+0\s+\d+\.\ds\s+changed$");
        (await h[0].Host.ShAsync("cat /srv/app/app.conf")).Stdout.ShouldBe("greeting=hello\nregion=eu-west\nport=8081\nnode=web-1\nlist=a,b\n");
        (await h[1].Host.ShAsync("cat /srv/app/app.conf")).Stdout.ShouldBe("greeting=hello\nregion=eu-west\nport=8080\nnode=web-2\nlist=a,b\n");
        (await h[2].Host.ShAsync("cat /srv/app/app.conf")).Stdout.ShouldBe("greeting=hi there\nregion=eu-west\nport=9000\nnode=web-3\nlist=a,b\n");
        (await h[1].Host.ShAsync("head -1 /etc/motd")).Stdout.ShouldBe("managed by converge ssh\n", "the shipped motd module travelled in the bundle");
        // The binary stays cached under its sha256; the bundle is gone.
        foreach (var host in h)
        {
            var state = await host.Host.ShAsync("ls /var/cache/converge/bin; ls -d /tmp/converge-run.* 2>/dev/null | wc -l; command -v dotnet || echo no-dotnet");
            state.Stdout.ShouldMatch(@"^converge-[0-9a-f]{64}\n0\nno-dotnet\n$");
        }
        Directory.GetDirectories(Path.Combine(_work.FullName, "reports")).Length.ShouldBe(2, "one report directory per run (the --noop run's and this one's)");
        var reports = first.Stdout.Split('\n').Single(l => l.StartsWith("reports: ", StringComparison.Ordinal))["reports: ".Length..];
        Directory.GetFiles(reports).Select(Path.GetFileName).Order().ShouldBe(["web-1.json", "web-2.json", "web-3.json"]);
        File.ReadAllText(Path.Combine(reports, "web-2.json")).ShouldContain("\"node\": \"web-2\"");
        // Who: the remote user ran sudo (become), and the operator is this machine's user, passed by converge ssh.
        var who = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(reports, "web-2.json")))!["who"]!;
        ((string?)who["user"]).ShouldBe("root");
        ((string?)who["sudoUser"]).ShouldBe("deploy");
        var me = Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;
        ((string?)who["operator"]).ShouldBe(Environment.GetEnvironmentVariable("CONVERGE_OPERATOR") is { Length: > 0 } op ? op : $"{me}@{Environment.MachineName}");

        var again = await SshAsync(fleet, inventory, repo);
        again.ExitCode.ShouldBe(0, again.ToString());
        foreach (var name in new[] { "web-1", "web-2", "web-3" })
            again.Stdout.ShouldMatch($@"(?m)^{name}\s+0\s+0\s+\d+\.\ds\s+ok$");
        again.Stderr.ShouldNotContain("uploading", customMessage: "the cached binary is reused");

        var clean = await SshAsync(fleet, inventory, repo, "--noop", "--clean", "--limit", "web-2");
        clean.ExitCode.ShouldBe(0, clean.ToString());
        (await h[1].Host.ShAsync("ls -A /var/cache/converge/bin 2>/dev/null | wc -l")).Stdout.ShouldBe("0\n");
        (await h[0].Host.ShAsync("ls /var/cache/converge/bin | wc -l")).Stdout.ShouldBe("1\n", "--limit kept the other hosts out");
    }

    [Fact]
    public async Task Fleet_BadHosts_EachReportedClearly_OthersConverge()
    {
        await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(4, new FleetOptions { AddressBlock = "169.254.61.0", NamePrefix = "bad-" });
        var repo = WriteRepo();
        var h = fleet.Hosts;
        var oldFingerprint = h[1].HostKeyFingerprint;
        await h[1].RegenerateHostKeyAsync(); // known_hosts still holds the old key
        await h[3].StopSshdAsync();
        var inventory = WriteInventory(fleet, $"""
              good:
                address: {h[0].Address}
                groups: [web]
              rekeyed:
                address: {h[1].Address}
              sudo-password:
                address: {h[2].Address}
                user: {SshHost.PasswordSudoUser}
                become: true
              no-sshd:
                address: {h[3].Address}
              no-route:
                address: 169.254.62.250
            """);

        var run = await SshAsync(fleet, inventory, repo, "--accept-new");
        run.ExitCode.ShouldBe(6, run.ToString());
        run.Stdout.ShouldMatch(@"(?m)^good\s+[1-9]\d*\s+0\s+\d+\.\ds\s+changed$");
        run.Stdout.ShouldMatch(@"(?m)^rekeyed\s+0\s+0\s+\d+\.\ds\s+host key mismatch$");
        run.Stdout.ShouldMatch(@"(?m)^sudo-password\s+0\s+0\s+\d+\.\ds\s+sudo needs password$");
        run.Stdout.ShouldMatch(@"(?m)^no-sshd\s+0\s+0\s+\d+\.\ds\s+unreachable$");
        run.Stdout.ShouldMatch(@"(?m)^no-route\s+0\s+0\s+\d+\.\ds\s+unreachable$");
        run.Stdout.ShouldContain($"offered ssh-ed25519 {h[1].HostKeyFingerprint}, expected ssh-ed25519 {oldFingerprint}");
        run.Stdout.ShouldContain("sudo asks maint for a password; converge runs 'sudo -n' and never types one");
        (await h[0].Host.ShAsync("cat /srv/app/app.conf | head -1")).Stdout.ShouldBe("greeting=hello\n");
        (await h[1].Host.ShAsync("test -e /srv/app; echo $?")).Stdout.ShouldBe("1\n", "a host with a changed key is never touched");
        File.ReadAllText(fleet.KnownHostsPath).ShouldNotContain(h[1].HostPublicKey, customMessage: "a changed key is never recorded, even with --accept-new");
    }

    [Fact]
    public async Task Batch_FailingCanary_StopsLaterWaves()
    {
        await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(3, new FleetOptions { AddressBlock = "169.254.62.0", NamePrefix = "canary-" });
        var repo = WriteRepo("""
              - match: "canary-1"
                resources:
                  - exec: broken-on-canary
                    command: [/bin/false]
            """);
        var h = fleet.Hosts;
        var inventory = WriteInventory(fleet, string.Join("\n", h.Select(x => $"  {x.Name}:\n    address: {x.Address}\n    groups: [web]")));

        var run = await SshAsync(fleet, inventory, repo, "--batch", "1,100%", "--max-fail", "0");
        run.ExitCode.ShouldBe(4, run.ToString());
        run.Stdout.ShouldMatch(@"(?m)^canary-1\s+0\s+1\s+\d+\.\ds\s+failed$");
        run.Stdout.ShouldMatch(@"(?m)^canary-2\s+0\s+0\s+-\s+not started$");
        run.Stdout.ShouldMatch(@"(?m)^canary-3\s+0\s+0\s+-\s+not started$");
        run.Stdout.ShouldContain("stopped: 1 host failed, more than --max-fail 0 allows; later waves not started");
        (await h[1].Host.ShAsync("test -e /srv/app; echo $?")).Stdout.ShouldBe("1\n");
    }

    [Fact]
    public async Task AdHocTarget_RemoteBinaryCrashes_HostFailsWithTailOfOutput()
    {
        await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(1, new FleetOptions { AddressBlock = "169.254.62.64", NamePrefix = "crash-" });
        var repo = WriteRepo();
        // A payload that dies the way a crashing runtime does: some output, then SIGSEGV. The transport,
        // cache and bundle steps are the real ones; only what runs at the end misbehaves.
        var payloadDir = Path.Combine(_work.FullName, "payload");
        Directory.CreateDirectory(payloadDir);
        var crasher = Path.Combine(payloadDir, "converge-linux-x64");
        File.WriteAllText(crasher, "#!/bin/sh\necho '{\"event\":\"start\",\"total\":3}'\necho 'Unhandled exception. System.InvalidOperationException: boom' >&2\necho '   at Converge.Somewhere()' >&2\nkill -SEGV $$\n");
        File.SetUnixFileMode(crasher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string[] args = ["ssh", $"root@{fleet.Hosts[0].Address}", "--identity", fleet.ClientKeyPath, "--manifests", repo,
            "--known-hosts", fleet.KnownHostsPath, "--payload-dir", payloadDir, "--report-dir", Path.Combine(_work.FullName, "reports")];
        var run = await Task.Run(() => ConvergeProcess.Run(args, timeout: TimeSpan.FromMinutes(2)));
        output.WriteLine(run.ToString());
        run.ExitCode.ShouldBe(4, run.ToString());
        run.Stdout.ShouldMatch($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(fleet.Hosts[0].Address.ToString())}\s+0\s+0\s+\d+\.\ds\s+failed$");
        run.Stdout.ShouldContain("remote converge ended with exit 139 before its report:");
        run.Stdout.ShouldContain("Unhandled exception. System.InvalidOperationException: boom\n       at Converge.Somewhere()\n    Segmentation fault");
        (await fleet.Hosts[0].Host.ShAsync("ls -d /tmp/converge-run.* 2>/dev/null | wc -l")).Stdout.ShouldBe("0\n", "the bundle is removed even after a crash");
    }

    /// <summary>Five exec resources of 2 s each, one after the other; each leaves a marker when it starts.</summary>
    private string WriteSlowRepo()
    {
        var repo = Path.Combine(_work.FullName, "slow");
        Directory.CreateDirectory(repo);
        var yaml = new System.Text.StringBuilder("nodes:\n  - match: \"*\"\n    resources:\n");
        for (var i = 1; i <= 5; i++)
        {
            yaml.Append($"      - exec: step-{i}\n        command: \"touch /root/step-{i}.started && sleep 2\"\n");
            if (i > 1) yaml.Append($"        require: exec[step-{i - 1}]\n");
        }
        File.WriteAllText(Path.Combine(repo, "site.yaml"), yaml.ToString());
        return repo;
    }

    /// <summary>Starts <c>converge ssh</c> as its own process, to signal it while hosts run.</summary>
    private static Process StartSsh(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>What a host looks like after its run was interrupted: steps that ran, then skipped ones, nothing left running.</summary>
    private static async Task<int> AssertInterruptedOnHost(SshHost host, JsonObject report)
    {
        report["interrupted"]!.GetValue<bool>().ShouldBeTrue();
        report["exitCode"]!.GetValue<int>().ShouldBe(6);
        var statuses = report["resources"]!.AsArray().Select(r => (string)r!["status"]!).ToList();
        var ran = statuses.TakeWhile(st => st == "changed").Count();
        ran.ShouldBeInRange(1, 2, "the resource running at Ctrl-C finished (the first, or the second if the first had just ended)");
        statuses.Skip(ran).ShouldAllBe(st => st == "skipped");
        var markers = await host.Host.ShAsync("ls /root | grep -c '^step-.*started$'");
        markers.Stdout.Trim().ShouldBe(ran.ToString(), "no step started after the interrupt");
        // The shipped binary's name is converge-<sha256>; the watcher ends as `sleep 2147483647` (anchored:
        // the shell running this check has the pattern in its own arguments; the host's init has a `sleep infinity`).
        var left = await host.Host.ShAsync("ps -eo comm | grep '^converge'; ps -eo args | grep '^sleep 2147483647'; ls -d /tmp/converge-run.* 2>/dev/null; true");
        left.Stdout.ShouldBe("", "no converge, watcher or bundle left on the host");
        return ran;
    }

    [Fact]
    public async Task CtrlC_RunningHostsFinishTheirResourceAndReport_WaitingHostsNeverStart_LostClientOrSecondCtrlCToo()
    {
        var payload = await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(3, new FleetOptions { AddressBlock = "169.254.63.0", NamePrefix = "int-" });
        var repo = WriteSlowRepo();
        var h = fleet.Hosts;
        var inventory = WriteInventory(fleet, $"""
              int-1:
                address: {h[0].Address}
              int-2:
                address: {h[1].Address}
                user: deploy
                become: true
              int-3:
                address: {h[2].Address}
            """);
        var reportDir = Path.Combine(_work.FullName, "reports");
        string[] args = ["ssh", "--inventory", inventory, "--manifests", repo, "--known-hosts", fleet.KnownHostsPath,
            "--payload-dir", payload, "--report-dir", reportDir, "--parallel", "2"];

        // Ctrl-C once both running hosts are in their first step: the third host is still waiting for a slot.
        using (var ssh = StartSsh(args))
        {
            var stdout = ssh.StandardOutput.ReadToEndAsync();
            var stderr = ssh.StandardError.ReadToEndAsync();
            await WaitForAsync(async () => (await h[0].Host.ShAsync("test -e /root/step-1.started")).ExitCode == 0
                && (await h[1].Host.ShAsync("test -e /root/step-1.started")).ExitCode == 0, "step 1 on int-1 and int-2", TimeSpan.FromMinutes(3));
            var signalled = Stopwatch.StartNew();
            (await MachineCommand.RunAsync(["kill", "-INT", ssh.Id.ToString()])).ExitCode.ShouldBe(0);
            await ssh.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            var took = signalled.Elapsed;
            var run = new ConvergeRun(ssh.ExitCode, await stdout, await stderr);
            output.WriteLine($"$ converge {string.Join(' ', args)}  (SIGINT after step 1 started on both hosts; exited {took.TotalSeconds:0.0} s later)\n{run}");

            run.ExitCode.ShouldBe(6, "changes on the interrupted hosts (2) and hosts not ok (4)");
            run.Stderr.ShouldContain("converge: interrupted: no more hosts will start");
            run.Stdout.ShouldMatch(@"(?m)^int-1\s+[12]\s+0\s+\d+\.\ds\s+interrupted$");
            run.Stdout.ShouldMatch(@"(?m)^int-2\s+[12]\s+0\s+\d+\.\ds\s+interrupted$");
            run.Stdout.ShouldMatch(@"(?m)^int-3\s+0\s+0\s+-\s+not started$");
            run.Stdout.ShouldMatch(@"(?m)^int-1: interrupted: Ctrl-C: the running resource finished, [34] skipped$");
            run.Stdout.ShouldContain("stopped: interrupted");
            took.ShouldBeLessThan(TimeSpan.FromSeconds(15), "the hosts did not run their remaining 8 s of steps");

            var reports = run.Stdout.Split('\n').Single(l => l.StartsWith("reports: ", StringComparison.Ordinal))["reports: ".Length..];
            Directory.GetFiles(reports).Select(Path.GetFileName).Order().ShouldBe(["int-1.json", "int-2.json"]);
            for (var i = 0; i < 2; i++)
            {
                var saved = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(reports, $"int-{i + 1}.json")))!;
                ((string)saved["ssh"]!["status"]!).ShouldBe("interrupted");
                var ran = await AssertInterruptedOnHost(h[i], saved);
                // The host's own report (its state dir) says the same: the remote run is a local run.
                var onHost = await h[i].Host.ShAsync("cat /var/lib/converge/reports/*.json");
                var hostReport = (JsonObject)JsonNode.Parse(onHost.Stdout)!;
                ((string)hostReport["runId"]!).ShouldBe((string)saved["runId"]!);
                hostReport["interrupted"]!.GetValue<bool>().ShouldBeTrue();
                output.WriteLine($"int-{i + 1}: {ran} step(s) ran, then skipped; timings {saved["ssh"]!["timings"]!.ToJsonString()}");
            }
            (await h[2].Host.ShAsync("ls /root | grep -c started; test -e /var/cache/converge/bin; echo $?")).Stdout.ShouldBe("0\n1\n",
                "int-3 never started: no step ran, not even the binary was uploaded");
        }

        // A client that dies (kill -9: a lost connection, or a second Ctrl-C) leaves no half-run behind
        // either: the host reads the end of its input as an interrupt.
        using (var ssh = StartSsh([.. args, "--limit", "int-3"]))
        {
            var drain = Task.WhenAll(ssh.StandardOutput.ReadToEndAsync(), ssh.StandardError.ReadToEndAsync());
            await WaitForAsync(async () => (await h[2].Host.ShAsync("test -e /root/step-1.started")).ExitCode == 0, "step 1 on int-3", TimeSpan.FromMinutes(3));
            ssh.Kill();
            await ssh.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await drain;
            await WaitForAsync(async () => (await h[2].Host.ShAsync("ls /var/lib/converge/reports/*.json 2>/dev/null | wc -l")).Stdout.Trim() == "1",
                "int-3's own report", TimeSpan.FromSeconds(30));
            // The report is written before converge exits and the bundle is removed: give the host a moment.
            await WaitForAsync(async () => (await h[2].Host.ShAsync("ls -d /tmp/converge-run.* 2>/dev/null | wc -l")).Stdout.Trim() == "0",
                "int-3's bundle removed", TimeSpan.FromSeconds(30));
            var hostReport = (JsonObject)JsonNode.Parse((await h[2].Host.ShAsync("cat /var/lib/converge/reports/*.json")).Stdout)!;
            var ran = await AssertInterruptedOnHost(h[2], hostReport);
            output.WriteLine($"int-3 after its client was killed: {ran} step(s) ran, then skipped");
        }

        // Ctrl-C twice: converge ssh stops at once, saying so; the host, told by the first, still finishes
        // its current resource and keeps its report.
        (await h[0].Host.ShAsync("rm -f /root/step-*.started /var/lib/converge/reports/*.json")).ExitCode.ShouldBe(0);
        using (var ssh = StartSsh([.. args, "--limit", "int-1"]))
        {
            var stderr = ssh.StandardError.ReadToEndAsync();
            var stdout = ssh.StandardOutput.ReadToEndAsync();
            await WaitForAsync(async () => (await h[0].Host.ShAsync("test -e /root/step-1.started")).ExitCode == 0, "step 1 on int-1", TimeSpan.FromMinutes(3));
            (await MachineCommand.RunAsync(["kill", "-INT", ssh.Id.ToString()])).ExitCode.ShouldBe(0);
            await Task.Delay(500);
            (await MachineCommand.RunAsync(["kill", "-INT", ssh.Id.ToString()])).ExitCode.ShouldBe(0);
            await ssh.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            ssh.ExitCode.ShouldBe(130, "ended by the second SIGINT");
            (await stderr).ShouldContain("converge: interrupted again (SIGINT): stopping now, without the table; running hosts still finish their current resource and keep their report");
            (await stdout).ShouldNotContain("HOST");
            await WaitForAsync(async () => (await h[0].Host.ShAsync("ls /var/lib/converge/reports/*.json 2>/dev/null | wc -l; ls -d /tmp/converge-run.* 2>/dev/null | wc -l")).Stdout == "1\n0\n",
                "int-1's own report, and its bundle removed", TimeSpan.FromSeconds(30));
            var hostReport = (JsonObject)JsonNode.Parse((await h[0].Host.ShAsync("cat /var/lib/converge/reports/*.json")).Stdout)!;
            var ran = await AssertInterruptedOnHost(h[0], hostReport);
            output.WriteLine($"int-1 after Ctrl-C twice: {ran} step(s) ran, then skipped");
        }
    }

    /// <summary>
    /// Runs a command on a real pseudo-terminal (python's pty: the child gets it as stdin, stdout, stderr
    /// and controlling terminal) and types each of <paramref name="answers"/> after each passphrase prompt.
    /// Returns everything the terminal showed and the exit code.
    /// </summary>
    private static async Task<(int ExitCode, string Screen)> RunOnTerminalAsync(IReadOnlyList<string> argv, IReadOnlyList<string> answers, IReadOnlyList<string> unset)
    {
        const string driver = """
            import json, os, pty, select, sys, time
            cfg = json.loads(sys.argv[1])
            env = {k: v for k, v in os.environ.items() if k not in cfg["unset"]}
            env["NO_COLOR"] = "1"
            pid, fd = pty.fork()
            if pid == 0:
                os.execvpe(cfg["argv"][0], cfg["argv"], env)
            out, answers, prompts, deadline = b"", list(cfg["answers"]), 0, time.time() + 240
            while time.time() < deadline:
                r, _, _ = select.select([fd], [], [], 0.5)
                if not r:
                    continue
                try:
                    data = os.read(fd, 4096)
                except OSError:  # EIO: the child and every holder of the terminal are gone
                    break
                if not data:
                    break
                out += data
                while out.count(b"Enter passphrase for key") > prompts and answers:
                    prompts += 1
                    os.write(fd, (answers.pop(0) + "\n").encode())
            else:
                os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(out.decode("utf-8", "replace"))
            sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
            """;
        var config = new JsonObject
        {
            ["argv"] = new JsonArray([.. argv.Select(a => (JsonNode)a)]),
            ["answers"] = new JsonArray([.. answers.Select(a => (JsonNode)a)]),
            ["unset"] = new JsonArray([.. unset.Select(a => (JsonNode)a)]),
        };
        var run = await MachineCommand.RunAsync(["python3", "-c", driver, config.ToJsonString()], timeout: TimeSpan.FromMinutes(5));
        return (run.ExitCode, run.Stdout.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task EncryptedKey_AskedOnceOnTheTerminalForAllHosts_NotEchoed_FromTheVariable_OrAClearErrorWithout()
    {
        const string secret = "s3cret passphrase";
        var payload = await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(2, new FleetOptions { AddressBlock = "169.254.63.64", NamePrefix = "key-" });
        // The fleet's key, encrypted: same public key, so the hosts take it.
        var key = Path.Combine(_work.FullName, "encrypted_ed25519");
        File.Copy(fleet.ClientKeyPath, key);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await MachineCommand.CheckAsync(["ssh-keygen", "-q", "-p", "-P", "", "-N", secret, "-f", key]);
        File.ReadAllText(key).ShouldNotBe(File.ReadAllText(fleet.ClientKeyPath));
        var repo = WriteRepo();
        var inventory = Path.Combine(_work.FullName, "inventory.yaml");
        File.WriteAllText(inventory, $"""
            defaults:
              user: root
              identity: {key}
              vars: {"{"} region: eu-west, http_port: 8080, tags: [a] {"}"}
            hosts:
              key-1:
                address: {fleet.Hosts[0].Address}
              key-2:
                address: {fleet.Hosts[1].Address}
            """);
        string[] args = ["ssh", "--inventory", inventory, "--manifests", repo, "--known-hosts", fleet.KnownHostsPath,
            "--payload-dir", payload, "--report-dir", Path.Combine(_work.FullName, "reports"), "--noop"];

        // No terminal (stdin is a pipe, as in CI) and no variable: each host says which key and which variable.
        var batch = await Task.Run(() => ConvergeProcess.Run(args, environment: new Dictionary<string, string?> { ["CONVERGE_SSH_PASSPHRASE"] = null }));
        output.WriteLine($"without a terminal or the variable:\n{batch}");
        batch.ExitCode.ShouldBe(4, batch.ToString());
        batch.Stdout.ShouldMatch(@"(?m)^key-1\s+0\s+0\s+\d+\.\ds\s+auth failed$");
        batch.Stdout.ShouldMatch(@"(?m)^key-2\s+0\s+0\s+\d+\.\ds\s+auth failed$");
        batch.Stdout.ShouldContain($"key-1: auth failed: root@{fleet.Hosts[0].Address}:22: key {key} is encrypted and no passphrase was given: put it in the environment variable CONVERGE_SSH_PASSPHRASE");
        batch.Stderr.ShouldNotContain("Enter passphrase");

        // From the variable --passphrase-env names.
        var fromEnv = await Task.Run(() => ConvergeProcess.Run([.. args, "--passphrase-env", "FLEET_KEY_PASS"],
            environment: new Dictionary<string, string?> { ["FLEET_KEY_PASS"] = secret }));
        fromEnv.ExitCode.ShouldBe(2, fromEnv.ToString());
        (fromEnv.Stdout + fromEnv.Stderr).ShouldNotContain(secret);

        // On a terminal without the variable: asked on the terminal, once for the key (not once per host),
        // again after a wrong answer; neither answer is echoed.
        var (code, screen) = await RunOnTerminalAsync([ConvergeProcess.ExecutablePath, .. args], ["not it", secret], ["CONVERGE_SSH_PASSPHRASE"]);
        output.WriteLine($"on a terminal:\n{screen}");
        code.ShouldBe(2, screen);
        System.Text.RegularExpressions.Regex.Matches(screen, "Enter passphrase for key").Count.ShouldBe(2, screen);
        screen.ShouldContain($"Wrong passphrase, try again. Enter passphrase for key '{key}': ");
        screen.ShouldNotContain(secret);
        screen.ShouldNotContain("not it");
        screen.ShouldMatch(@"(?m)^key-1\s+\d+\s+0\s+\d+\.\ds\s+changed$");
        screen.ShouldMatch(@"(?m)^key-2\s+\d+\s+0\s+\d+\.\ds\s+changed$");
    }

    [Fact]
    public async Task SshAgent_SignsForAnEncryptedIdentityItHolds_AndForHostsWithoutOne_RsaWithSha2()
    {
        var payload = await SshPayload.DirectoryAsync(); // before any host starts: the first call may publish for minutes
        await using var fleet = await Fleet.StartAsync(1, new FleetOptions { AddressBlock = "169.254.63.128", NamePrefix = "agent-" });
        var host = fleet.Hosts[0];
        var repo = Path.Combine(_work.FullName, "tiny");
        Directory.CreateDirectory(repo);
        File.WriteAllText(Path.Combine(repo, "site.yaml"), "nodes:\n  - match: \"*\"\n    resources:\n      - file: /tmp/agent-was-here\n        content: \"hi\\n\"\n");
        // An encrypted copy of the fleet's key with no .pub beside it: its public key is read from the file's header.
        var encrypted = Path.Combine(_work.FullName, "encrypted_ed25519");
        File.Copy(fleet.ClientKeyPath, encrypted);
        File.SetUnixFileMode(encrypted, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await MachineCommand.CheckAsync(["ssh-keygen", "-q", "-p", "-P", "", "-N", "only the agent knows", "-f", encrypted]);
        // An RSA key the host's root accepts too (sshd 9.2 takes RSA only with SHA-2 signatures).
        var rsa = Path.Combine(_work.FullName, "id_rsa");
        await MachineCommand.CheckAsync(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa]);
        (await host.Host.ShAsync("cat >> /root/.ssh/authorized_keys", stdin: File.ReadAllText(rsa + ".pub"))).ExitCode.ShouldBe(0);
        var emptyHome = Directory.CreateDirectory(Path.Combine(_work.FullName, "home")).FullName; // no ~/.ssh: nothing by default

        var socket = Path.Combine(_work.FullName, "agent.sock");
        using var agent = Process.Start(new ProcessStartInfo("ssh-agent", ["-D", "-a", socket]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        try
        {
            await WaitForAsync(() => Task.FromResult(File.Exists(socket)), "ssh-agent's socket", TimeSpan.FromSeconds(10));
            async Task SshAdd(params string[] argv) =>
                (await MachineCommand.RunAsync(["env", "SSH_AUTH_SOCK=" + socket, "ssh-add", .. argv])).ExitCode.ShouldBe(0);
            await SshAdd("-q", fleet.ClientKeyPath);
            string[] common = ["--manifests", repo, "--known-hosts", fleet.KnownHostsPath, "--payload-dir", payload,
                "--report-dir", Path.Combine(_work.FullName, "reports"), "--noop"];
            var env = new Dictionary<string, string?> { ["SSH_AUTH_SOCK"] = socket, ["HOME"] = emptyHome, ["CONVERGE_SSH_PASSPHRASE"] = null };

            // The identity is encrypted, there is no passphrase and no terminal: the agent holds the key, so it signs.
            var held = await Task.Run(() => ConvergeProcess.Run(["ssh", $"root@{host.Address}", "--identity", encrypted, .. common], environment: env));
            output.WriteLine($"identity held by the agent:\n{held}");
            held.ExitCode.ShouldBe(2, held.ToString());
            held.Stdout.ShouldContain("would-change: file[/tmp/agent-was-here]");

            // No identity at all: the agent's keys are offered.
            var noIdentity = await Task.Run(() => ConvergeProcess.Run(["ssh", $"root@{host.Address}", .. common], environment: env));
            noIdentity.ExitCode.ShouldBe(2, noIdentity.ToString());

            // Only the RSA key in the agent: signed with rsa-sha2 (the agent's SHA-2 flags), which sshd accepts.
            await SshAdd("-q", "-D");
            await SshAdd("-q", rsa);
            var viaRsa = await Task.Run(() => ConvergeProcess.Run(["ssh", $"root@{host.Address}", .. common], environment: env));
            output.WriteLine($"RSA key in the agent:\n{viaRsa}");
            viaRsa.ExitCode.ShouldBe(2, viaRsa.ToString());
            var log = await host.Host.ShAsync("grep 'Accepted publickey for root' /var/log/sshd.log | tail -1");
            log.Stdout.ShouldContain("RSA SHA256:", customMessage: log.Stdout);

            // The agent holds a key the host does not take, and the encrypted identity is not in it: refused, and said which keys were tried.
            var refused = await Task.Run(() => ConvergeProcess.Run(["ssh", $"root@{host.Address}", "--identity", encrypted, .. common], environment: env));
            refused.ExitCode.ShouldBe(4, refused.ToString());
            refused.Stdout.ShouldContain($"key {encrypted} is encrypted and no passphrase was given");

            // An agent that is not there: a warning, then the usual search (here: nothing to offer).
            var gone = await Task.Run(() => ConvergeProcess.Run(["ssh", $"root@{host.Address}", .. common],
                environment: new Dictionary<string, string?>(env) { ["SSH_AUTH_SOCK"] = socket + ".missing" }));
            gone.ExitCode.ShouldBe(4, gone.ToString());
            gone.Stderr.ShouldContain($"converge: warning: not using ssh-agent: cannot reach ssh-agent at {socket}.missing (SSH_AUTH_SOCK)");
            gone.Stdout.ShouldContain("no key to offer");
        }
        finally
        {
            agent.Kill();
            await agent.WaitForExitAsync();
        }
    }
}
