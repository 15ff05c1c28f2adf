using System.Diagnostics;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// Throwaway hosts with the machine's systemd as pid 1 (<see cref="HostInit.Systemd"/>): booted, in their
/// own cgroup subtree, the machine's own enabled units masked, gone without a trace, also when the test
/// process goes away without disposing them.
/// </summary>
public class SystemdHostTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SystemdHost_BootsToRunning_InItsOwnCgroup()
    {
        var clock = Stopwatch.StartNew();
        var host = ThrowawayHost.Start(new HostOptions { Hostname = "systemd-1", Init = HostInit.Systemd, MountConverge = false });
        var boot = clock.Elapsed;
        string cgroup, state;
        try
        {
            host.SystemState.ShouldBe("running", "no unit fails in a host: the machine's own units are masked");
            cgroup = host.CgroupPath.ShouldNotBeNull();
            state = host.StateDirectory;
            File.ReadAllText($"/proc/{host.InitPid}/comm").Trim().ShouldBe("systemd");
            File.ReadAllText($"/proc/{host.InitPid}/cgroup").ShouldContain($"0::/{Path.GetFileName(cgroup)}/init.scope");
            Directory.Exists(cgroup + "/init.scope").ShouldBeTrue();

            var run = await host.ShAsync("cat /proc/1/comm; cat /proc/self/cgroup | grep ^0::; systemd-detect-virt --container; hostname; stat -f -c %T /sys/fs/cgroup; systemctl is-active systemd-journald.service");
            run.ExitCode.ShouldBe(0, run.ToString());
            run.Stdout.Split('\n')[..6].ShouldBe(["systemd", "0::/", "container-other", "systemd-1", "cgroup2fs", "active"]);

            // Every unit the machine's admin enabled is masked in the host (none of the kept ones is enabled here).
            foreach (var link in Directory.GetFiles("/etc/systemd/system", "*", SearchOption.AllDirectories)
                         .Where(l => Path.GetFileName(Path.GetDirectoryName(l))!.EndsWith(".wants", StringComparison.Ordinal)))
            {
                var unit = Path.GetFileName(link);
                if (new HostOptions().KeptUnits.Contains(unit)) continue;
                (await host.RunAsync(["systemctl", "is-enabled", unit])).Stdout.Trim().ShouldBe("masked", unit);
            }

            // systemd supervises: a transient service runs in the host's subtree, and stops on request.
            (await host.RunAsync(["systemd-run", "--unit", "probe", "sleep", "600"])).ExitCode.ShouldBe(0);
            Directory.Exists(cgroup + "/system.slice/probe.service").ShouldBeTrue();
            (await host.RunAsync(["systemctl", "stop", "probe"])).ExitCode.ShouldBe(0);
            (await host.RunAsync(["systemctl", "is-active", "probe"])).Stdout.Trim().ShouldBe("inactive");
        }
        finally
        {
            clock.Restart();
            await host.DisposeAsync();
        }
        output.WriteLine($"systemd host: boot {boot.TotalMilliseconds:0} ms, teardown {clock.Elapsed.TotalMilliseconds:0} ms");
        Directory.Exists(cgroup).ShouldBeFalse();
        Directory.Exists(state).ShouldBeFalse();
        ThrowawayHost.ProcessesIn(host.PidNamespace).ShouldBeEmpty();
    }

    [Fact]
    public async Task SystemdHost_WithPrivateNetwork_BootsWithOnlyLo()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Init = HostInit.Systemd, PrivateNetwork = true, MountConverge = false });
        host.SystemState.ShouldBe("running");
        (await host.ShAsync("cat /proc/1/comm; ls /sys/class/net")).Stdout.ShouldBe("systemd\nlo\n");
    }

    [Theory]
    [InlineData(HostInit.Shell)]
    [InlineData(HostInit.Systemd)]
    public async Task TestProcessGone_HostGoesAway(HostInit init)
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Init = init, MountConverge = false });
        (await host.ShAsync("setsid sleep 600 >/dev/null 2>&1 &")).ExitCode.ShouldBe(0);
        host.CloseWatchdogPipe();
        var clock = Stopwatch.StartNew();
        while (ThrowawayHost.ProcessesIn(host.PidNamespace).Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        ThrowawayHost.ProcessesIn(host.PidNamespace).ShouldBeEmpty("the pipe's end is the test process's end: every process of the host is killed");
    }
}
