using System.Diagnostics;
using System.Text.Json;
using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// <c>converge agent</c> under real systemd: the shipped <c>dist/systemd/converge-agent.service</c>, unchanged,
/// in a throwaway host with systemd 252 as pid 1. The manifests come from a bare git repository in the host,
/// committed to with real git; they manage a file, a directory with a mode, a user and a package with a
/// setuid binary (from a local apt repository), so the unit's hardening is shown not to block managing the host.
/// </summary>
public sealed class AgentSystemdTests(ITestOutputHelper output)
{
    private const string Unit = "converge-agent";
    private const string Repo = "/srv/manifests.git";
    private const string Work = "/root/manifests";
    private const string LastRun = "/var/lib/converge/last_run.json";
    private const string Hostname = "agent-systemd";

    // The host only adds what the test environment needs: /usr/local/bin/converge is the test's build
    // (framework-dependent, so its apphost needs DOTNET_ROOT; a released converge is self-contained).
    private static string DropIn => $"""
        # Test environment only: the converge build under test runs on the machine's dotnet.
        [Service]
        Environment=DOTNET_ROOT={DotnetRoot()}
        """;

    private static string Manifest(string motd) => $"""
        resources:
          - file: /etc/motd
            content: "{motd}\n"
          - directory: /srv/app
            mode: "0750"
          - file: /srv/app/app.conf
            mode: "0640"
            content: "workers = 4\n"
          - user: cvgsvc
            system: true
            shell: /usr/sbin/nologin
          - package: cvg-suid
        """;

    [Fact]
    public async Task ShippedUnit_StartsReady_Converges_ReloadRunsNow_StopsCleanly()
    {
        var clock = Stopwatch.StartNew();
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = Hostname, Init = HostInit.Systemd });
        host.SystemState.ShouldBe("running");
        var booted = clock.Elapsed;

        // A package with a setuid binary (RestrictSUIDSGID stays off in the unit), from a local apt repository;
        // the manifest repository with its first commit; the shipped unit, unchanged, and the test's drop-in.
        var unitFile = await File.ReadAllTextAsync(Path.Combine(Golden.RepositoryRoot(), "dist", "systemd", "converge-agent.service"));
        await host.WriteFileAsync("/etc/systemd/system/converge-agent.service", unitFile);
        await host.WriteFileAsync("/etc/systemd/system/converge-agent.service.d/test-environment.conf", DropIn);
        await host.WriteFileAsync("/etc/converge/agent.yaml", $"""
            source: {Repo}
            branch: main
            interval: 1h
            """);
        await host.WriteFileAsync(Work + "/site.yaml", Manifest("welcome v1"));
        var setup = await host.ShAsync($"""
            set -e
            d=/tmp/build/cvg-suid
            mkdir -p $d/DEBIAN $d/usr/bin /srv/repo
            printf 'Package: cvg-suid\nVersion: 1.0\nArchitecture: all\nMaintainer: Converge tests <tests@example.invalid>\nDescription: Converge test package\n' > $d/DEBIAN/control
            printf '#!/bin/sh\nid -u\n' > $d/usr/bin/cvg-suid
            chmod 4755 $d/usr/bin/cvg-suid
            dpkg-deb --root-owner-group --build $d /srv/repo/cvg-suid_1.0_all.deb >/dev/null
            cd /srv/repo && dpkg-scanpackages . /dev/null > Packages 2>/dev/null
            rm -f /etc/apt/sources.list.d/* /var/lib/apt/lists/*_*
            : > /etc/apt/sources.list
            echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list.d/cvg.list
            apt-get update -q >/dev/null
            git init -q --bare -b main {Repo}
            cd {Work} && git init -q -b main && git add site.yaml
            git -c user.name=alice -c user.email=alice@example.invalid commit -q -m 'first'
            git push -q {Repo} main
            ln -s {ThrowawayHost.ConvergeDirectory}/converge /usr/local/bin/converge
            systemctl daemon-reload
            """, timeout: TimeSpan.FromMinutes(2));
        setup.ExitCode.ShouldBe(0, setup.ToString());
        var first = await Head(host);

        // Type=notify: `systemctl start` returns once the agent said READY=1, so the unit is active at once.
        var start = await host.RunAsync(["systemctl", "start", Unit]);
        if (start.ExitCode != 0) throw new ShouldAssertException($"systemctl start failed: {start}\n{await Journal(host)}");
        (await host.RunAsync(["systemctl", "is-active", Unit])).Stdout.Trim().ShouldBe("active");
        var started = clock.Elapsed;

        // The hardening is in effect, not just written down: a seccomp filter (SystemCallArchitectures,
        // RestrictAddressFamilies, LockPersonality, RestrictRealtime), Nice=5, best-effort I/O at priority 6.
        // And systemd has nothing to say about the unit file.
        var mainPid = (await host.RunAsync(["systemctl", "show", "--property=MainPID", "--value", Unit])).Stdout.Trim();
        var sandbox = await host.ShAsync($"grep ^Seccomp: /proc/{mainPid}/status; ps -o ni= -p {mainPid}; ionice -p {mainPid}; systemd-analyze verify {Unit}.service 2>&1");
        sandbox.Stdout.ShouldBe("Seccomp:\t2\n  5\nbest-effort: prio 6\n", sandbox.ToString());

        // The first cycle starts at once and converges everything.
        var run1 = await WaitForRun(host, first);
        run1.GetProperty("exitCode").GetInt32().ShouldBe(2, run1.ToString());
        run1.GetProperty("failed").GetInt32().ShouldBe(0);
        run1.GetProperty("changed").GetInt32().ShouldBe(5);
        var state = await host.ShAsync("""
            cat /etc/motd
            stat -c '%a %U' /srv/app /srv/app/app.conf /var/lib/converge
            getent passwd cvgsvc | cut -d: -f7
            dpkg-query -W -f='${Status} ${Version}\n' cvg-suid
            stat -c '%a %U' /usr/bin/cvg-suid
            """);
        state.Stdout.ShouldBe("""
            welcome v1
            750 root
            640 root
            750 root
            /usr/sbin/nologin
            install ok installed 1.0
            4755 root

            """, state.ToString());

        // A new commit is not seen for an hour (interval 1h, no splay) — unless `systemctl reload` asks for a run now.
        await host.WriteFileAsync(Work + "/site.yaml", Manifest("welcome v2"));
        var commit = await host.ShAsync($"cd {Work} && git -c user.name=bob -c user.email=bob@example.invalid commit -q -am 'new motd' && git push -q {Repo} main");
        commit.ExitCode.ShouldBe(0, commit.ToString());
        var second = await Head(host);
        await Task.Delay(TimeSpan.FromSeconds(1));
        (await Read(host, LastRun)).GetProperty("revision").GetString().ShouldBe(first, "nothing runs before the reload");
        var pid = mainPid;
        var reloaded = Stopwatch.StartNew();
        var reload = await host.RunAsync(["systemctl", "reload", Unit]);
        reload.ExitCode.ShouldBe(0, reload.ToString());
        var run2 = await WaitForRun(host, second);
        var reloadToRun = reloaded.Elapsed;
        run2.GetProperty("exitCode").GetInt32().ShouldBe(2, run2.ToString());
        run2.GetProperty("changed").GetInt32().ShouldBe(1);
        run2.GetProperty("previousRevision").GetString().ShouldBe(first);
        (await host.ShAsync("cat /etc/motd")).Stdout.ShouldBe("welcome v2\n");
        (await host.RunAsync(["systemctl", "show", "--property=MainPID", "--value", Unit])).Stdout.Trim().ShouldBe(pid, "a reload is a run, not a restart");

        // The deploy-log lines are in the journal at level info (the agent's <6> prefix), and the SIGHUP was seen.
        var entries = await JournalEntries(host);
        var deploy = entries.Where(e => e.Message.StartsWith($"converged {Hostname} to ", StringComparison.Ordinal)).ToList();
        deploy.Select(e => e.Message[..$"converged {Hostname} to 1234567 ".Length]).ShouldBe(
            [$"converged {Hostname} to {first[..7]} ", $"converged {Hostname} to {second[..7]} "], string.Join('\n', entries.Select(e => e.Message)));
        deploy.ShouldAllBe(e => e.Priority == "6");
        deploy[1].Message.ShouldContain($"(was {first[..7]}, author bob, 'new motd'): 1 changed, 0 failed in ");
        entries.ShouldContain(e => e.Message == "Run requested (SIGHUP)" && e.Priority == "6");
        entries.ShouldNotContain(e => e.Message.StartsWith('<'), "journald strips the priority prefix");

        // `systemctl stop`: SIGTERM, the agent says STOPPING=1 and exits 0; the unit is inactive, not failed.
        // systemd logs notifications at debug level only, so turn that on for the stop.
        (await host.RunAsync(["systemd-analyze", "log-level", "debug"])).ExitCode.ShouldBe(0);
        var stopClock = Stopwatch.StartNew();
        var stop = await host.RunAsync(["systemctl", "stop", Unit]);
        var stopped = stopClock.Elapsed;
        stop.ExitCode.ShouldBe(0, stop.ToString());
        (await host.RunAsync(["systemd-analyze", "log-level", "info"])).ExitCode.ShouldBe(0);
        (await host.RunAsync(["systemctl", "is-active", Unit])).Stdout.Trim().ShouldBe("inactive");
        (await host.RunAsync(["systemctl", "is-failed", Unit])).ExitCode.ShouldNotBe(0, "stopped, not failed");
        // The stopped unit is unloaded at once (nothing refers to it), so `systemctl show` knows no exit status any
        // more: pid 1's own log of the stop is the record. It says debug things only at debug level, hence above.
        var journal = await host.ShAsync($"journalctl --sync; journalctl -q --no-pager -o cat -u {Unit}");
        journal.Stdout.ShouldContain($"{Unit}.service: Got notification message from PID {pid} (STOPPING=1)", Case.Sensitive, journal.Stdout);
        journal.Stdout.ShouldContain("Converge agent stopped");
        journal.Stdout.ShouldContain($"{Unit}.service: Main process exited, code=exited, status=0/SUCCESS");
        journal.Stdout.ShouldContain($"{Unit}.service: Deactivated successfully.");
        journal.Stdout.ShouldNotContain($"{Unit}.service: Failed with result");

        output.WriteLine($"boot {booted.TotalSeconds:0.0} s, setup + start {(started - booted).TotalSeconds:0.0} s, " +
                         $"reload → run recorded {reloadToRun.TotalSeconds:0.0} s, stop {stopped.TotalSeconds:0.0} s, total {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task<string> Head(ThrowawayHost host)
    {
        var head = await host.RunAsync(["git", "--git-dir", Repo, "rev-parse", "main"]);
        head.ExitCode.ShouldBe(0, head.ToString());
        return head.Stdout.Trim();
    }

    /// <summary>Waits for <c>last_run.json</c> to name <paramref name="revision"/> (the agent writes it atomically).</summary>
    private async Task<JsonElement> WaitForRun(ThrowawayHost host, string revision)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var text = await host.ShAsync($"cat {LastRun} 2>/dev/null");
            if (text.ExitCode == 0)
            {
                var run = JsonDocument.Parse(text.Stdout).RootElement;
                if (run.GetProperty("revision").GetString() == revision) return run;
            }
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"no run of {revision} within 60 s; last_run.json: {text.Stdout}\n{await Journal(host)}");
            await Task.Delay(200);
        }
    }

    private static async Task<JsonElement> Read(ThrowawayHost host, string path)
    {
        var text = await host.ShAsync($"cat {path}");
        text.ExitCode.ShouldBe(0, text.ToString());
        return JsonDocument.Parse(text.Stdout).RootElement;
    }

    private async Task<string> Journal(ThrowawayHost host)
    {
        var journal = (await host.ShAsync($"journalctl -q --no-pager -u {Unit}")).Stdout;
        output.WriteLine(journal);
        return journal;
    }

    private sealed record JournalEntry(string Message, string Priority);

    /// <summary>The unit's journal entries written by the agent itself (its stderr), with journald's level.</summary>
    private static async Task<List<JournalEntry>> JournalEntries(ThrowawayHost host)
    {
        // journald reads the stream asynchronously: the deploy line of the run just recorded may lag a moment.
        var result = await host.ShAsync($"journalctl --sync 2>/dev/null; journalctl -q --no-pager -o json _SYSTEMD_UNIT={Unit}.service");
        result.ExitCode.ShouldBe(0, result.ToString());
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("MESSAGE", out var m) && m.ValueKind == JsonValueKind.String)
            .Select(e => new JournalEntry(e.GetProperty("MESSAGE").GetString()!, e.GetProperty("PRIORITY").GetString()!))
            .ToList();
    }

    private static string DotnetRoot()
    {
        // .../dotnet/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll → .../dotnet
        var dir = new FileInfo(typeof(object).Assembly.Location).Directory!.Parent!.Parent!.Parent!;
        File.Exists(Path.Combine(dir.FullName, "dotnet")).ShouldBeTrue($"no dotnet in {dir.FullName}");
        return dir.FullName;
    }
}
