using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The <c>service</c> type with a real sysv init script inside a throwaway host: an LSB script
/// <c>/etc/init.d/cvg-sysv</c> that starts a background loop with start-stop-daemon (pid file
/// <c>/run/cvg-sysv.pid</c>, killed with the host's pid 1 at teardown) and Debian's own
/// <c>update-rc.d</c> (no insserv: its fallback that makes S01/K01 links from the LSB header).
/// No runit is installed and pid 1 is not systemd, so the detected manager is sysv; the second test
/// names <c>provider: sysv</c> explicitly.
/// </summary>
public sealed class SysvServiceSystemTests(ITestOutputHelper output)
{
    private const string Site = ServiceScenario.Site;
    private const string PidFile = "/run/cvg-sysv.pid";

    /// <summary>A small LSB init script with real LSB exit codes (status: 0 running, 3 not running).</summary>
    private const string InitScript = """
        #!/bin/sh
        ### BEGIN INIT INFO
        # Provides:          cvg-sysv
        # Required-Start:    $remote_fs
        # Required-Stop:     $remote_fs
        # Default-Start:     2 3 4 5
        # Default-Stop:      0 1 6
        # Short-Description: converge sysv test service
        ### END INIT INFO
        PIDFILE=/run/cvg-sysv.pid

        running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

        do_start() {
            running && return 0
            start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" \
                --startas /bin/sh -- -c 'while true; do sleep 1; done'
        }

        do_stop() {
            start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/5 --pidfile "$PIDFILE" --remove-pidfile
        }

        case "$1" in
            start) do_start ;;
            stop) do_stop ;;
            restart|force-reload) do_stop && do_start ;;
            reload) running || exit 7; date +%s%N >> /run/cvg-sysv.reloaded ;;
            status) if running; then echo "cvg-sysv is running"; exit 0; else echo "cvg-sysv is not running"; exit 3; fi ;;
            *) echo "Usage: $0 {start|stop|status|restart|reload|force-reload}" >&2; exit 3 ;;
        esac
        """;

    internal static readonly ServiceManagerCase Sysv = new()
    {
        Service = "cvg-sysv",
        Host = new HostOptions { Hostname = "service-sysv" },
        PrepareAsync = InstallInitScript,
        PidAsync = Pid,
        BreakByHand = "/etc/init.d/cvg-sysv stop && update-rc.d cvg-sysv disable",
        Enable = ["update-rc.d", "cvg-sysv", "defaults"],
        // With (disabled) links present it is update-rc.d enable, not defaults.
        ReEnable = ["update-rc.d", "cvg-sysv", "enable"],
        Start = ["/etc/init.d/cvg-sysv", "start"],
        Stop = ["/etc/init.d/cvg-sysv", "stop"],
        Disable = ["update-rc.d", "cvg-sysv", "disable"],
        Refresh = [["/etc/init.d/cvg-sysv", "restart"]],
        AssertEnabledAsync = async (host, enabled) =>
        {
            if (enabled)
            {
                (await RcLinks(host)).ShouldBe(
                    "rc0.d/K01cvg-sysv\nrc1.d/K01cvg-sysv\nrc2.d/S01cvg-sysv\nrc3.d/S01cvg-sysv\nrc4.d/S01cvg-sysv\nrc5.d/S01cvg-sysv\nrc6.d/K01cvg-sysv");
                (await host.RunAsync(["readlink", "/etc/rc2.d/S01cvg-sysv"])).Stdout.Trim().ShouldBe("../init.d/cvg-sysv");
            }
            else
                (await RcLinks(host)).ShouldNotContain("S01cvg-sysv");
        },
    };

    private static Task<ConvergeRun> Run(ThrowawayHost host, bool noop, int expectedExit, bool json = true)
        => host.ApplyAsync(Site, noop, expectedExit, json);

    private static async Task InstallInitScript(ThrowawayHost host)
    {
        (await host.RunAsync(["test", "-e", "/usr/sbin/runsvdir"])).ExitCode.ShouldNotBe(0, "no runit in the host: sysv is detected");
        await host.WriteFileAsync("/etc/init.d/cvg-sysv", InitScript + "\n");
        (await host.RunAsync(["chmod", "755", "/etc/init.d/cvg-sysv"])).ExitCode.ShouldBe(0);
        (await host.RunAsync(["/etc/init.d/cvg-sysv", "status"])).ExitCode.ShouldBe(3, "LSB: not running");
    }

    /// <summary>The pid in the pid file when that process is alive, else null.</summary>
    private static async Task<int?> Pid(ThrowawayHost host)
    {
        var read = await host.ShAsync($"[ -f {PidFile} ] && pid=$(cat {PidFile}) && kill -0 \"$pid\" && echo \"$pid\"");
        return read.ExitCode == 0 && int.TryParse(read.Stdout.Trim(), out var pid) ? pid : null;
    }

    /// <summary>The rc links of cvg-sysv, sorted: <c>rc0.d/K01cvg-sysv</c>, ….</summary>
    private static async Task<string> RcLinks(ThrowawayHost host) =>
        (await host.ShAsync("cd /etc && ls -d rc?.d/[SK][0-9][0-9]cvg-sysv 2>/dev/null | sort")).Stdout.Trim();

    [Fact]
    public async Task Sysv_Detected_EnsureEnableRefreshChainAndDrift_Converge()
    {
        await using var host = await ServiceScenario.RunAsync(Sysv, output);

        // Disabled by the scenario's last step: update-rc.d disable turned the S links into K links.
        (await host.RunAsync(["/etc/init.d/cvg-sysv", "status"])).ExitCode.ShouldBe(3);
        (await RcLinks(host)).ShouldBe(
            "rc0.d/K01cvg-sysv\nrc1.d/K01cvg-sysv\nrc2.d/K01cvg-sysv\nrc3.d/K01cvg-sysv\nrc4.d/K01cvg-sysv\nrc5.d/K01cvg-sysv\nrc6.d/K01cvg-sysv");

        // Only stray K links left (enabled again, then the rc2-5.d links removed by hand): update-rc.d
        // enable refuses ("no runlevel symlinks to modify") and defaults keeps a service that has any link,
        // so the links are removed first and recreated by defaults.
        await host.WriteFileAsync(Site + "/site.yaml", ServiceScenario.Manifest(Sysv, "v2"));
        await Run(host, noop: false, expectedExit: 2);
        (await host.ShAsync("rm /etc/rc[2-5].d/S01cvg-sysv")).ExitCode.ShouldBe(0);
        var stray = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        stray["service[cvg-sysv]"].ShouldBe(
            """{"property":"enable","from":"false","to":"true","argv":["update-rc.d","-f","cvg-sysv","remove"]}""" + "\n" +
            """{"property":"enable","from":"false","to":"true","argv":["update-rc.d","cvg-sysv","defaults"]}""");
        await Sysv.AssertEnabledAsync(host, true);
        await Run(host, noop: true, expectedExit: 0);
    }

    [Fact]
    public async Task Sysv_ExplicitProvider_ReloadOnRefresh_KeepsThePid()
    {
        await using var host = ThrowawayHost.Start(Sysv.Host with { Hostname = "service-sysv-reload" });
        await InstallInitScript(host);
        string Reloading(string content) => $$"""
            resources:
              - file: /etc/cvg-sysv.conf
                content: "{{content}}\n"
                notify: service[cvg-sysv]
              - service: cvg-sysv
                provider: sysv
                ensure: running
                refresh: reload
            """;
        await host.WriteFileAsync(Site + "/site.yaml", Reloading("v1"));

        // enable is not managed: the service starts, no rc links appear.
        var start = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        start["service[cvg-sysv]"].ShouldBe("""{"property":"ensure","from":"stopped","to":"running","argv":["/etc/init.d/cvg-sysv","start"]}""");
        var pid = (await Pid(host)).ShouldNotBeNull();
        (await RcLinks(host)).ShouldBeEmpty();
        (await host.RunAsync(["test", "-e", "/run/cvg-sysv.reloaded"])).ExitCode.ShouldNotBe(0, "the start satisfies the refresh");
        await Run(host, noop: true, expectedExit: 0);

        // The file changes: --noop shows the reload; apply reloads (the script records it), the pid stays.
        await host.WriteFileAsync(Site + "/site.yaml", Reloading("v2"));
        var text = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(text.Stdout);
        text.Stdout.ShouldContain("$ /etc/init.d/cvg-sysv reload");
        (await host.RunAsync(["test", "-e", "/run/cvg-sysv.reloaded"])).ExitCode.ShouldNotBe(0, "--noop reloads nothing");
        var reload = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        reload["service[cvg-sysv]"].ShouldBe(" +refresh");
        (await host.RunAsync(["wc", "-l", "/run/cvg-sysv.reloaded"])).Stdout.Trim().ShouldStartWith("1 ");
        (await Pid(host)).ShouldBe(pid);

        // A stopped service stays stopped on refresh.
        (await host.RunAsync(["/etc/init.d/cvg-sysv", "stop"])).ExitCode.ShouldBe(0);
        await host.WriteFileAsync(Site + "/site.yaml", Reloading("v3").Replace("    ensure: running\n", ""));
        var stopped = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        stopped.ContainsKey("file[/etc/cvg-sysv.conf]").ShouldBeTrue();
        (await Pid(host)).ShouldBeNull("a refresh never starts a service");
        (await host.RunAsync(["wc", "-l", "/run/cvg-sysv.reloaded"])).Stdout.Trim().ShouldStartWith("1 ");
    }
}
