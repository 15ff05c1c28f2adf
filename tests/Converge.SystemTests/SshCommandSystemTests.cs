using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// <c>converge ssh</c> end to end: real sshd hosts with their own network namespaces and no dotnet
/// (<see cref="Fleet"/>), the published single-file converge shipped to them, the CLI run as a user runs
/// it. Address blocks used here: 169.254.60.0 to 169.254.62.255.
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
}
