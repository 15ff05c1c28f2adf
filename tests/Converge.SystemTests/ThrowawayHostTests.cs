using System.Diagnostics;
using Converge.Testing;
using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>The throwaway-host fixture itself: isolation from the machine, real tools inside, clean teardown.</summary>
public class ThrowawayHostTests
{
    [Fact]
    public async Task Host_RunsItsOwnPid1_HostnameAndFreshFilesystems()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "probe-1" });

        // The init the fixture recorded is pid 1 in its own namespace (NSpid: machine pid, then host pid).
        var nspid = File.ReadLines($"/proc/{host.InitPid}/status").Single(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
        nspid.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..].ShouldBe([host.InitPid.ToString(), "1"]);

        var run = await host.ShAsync("readlink /proc/self/ns/pid; cat /proc/1/status | grep ^NSpid; hostname; ls -A /tmp | wc -l; cut -d' ' -f2,3 /proc/self/mounts; grep ^CapBnd /proc/self/status");
        run.ExitCode.ShouldBe(0, run.ToString());
        var lines = run.Stdout.Split('\n');
        lines[0].ShouldBe(host.PidNamespace);
        lines[1].ShouldBe("NSpid:\t1");
        lines[2].ShouldBe("probe-1");
        lines[3].ShouldBe("0", "the host's /tmp is a fresh tmpfs: no test temp dirs, no fixture state");
        run.Stdout.ShouldContain("/ overlay");
        run.Stdout.ShouldContain("/proc/sys proc");
        run.Stdout.ShouldContain("/sys sysfs");
        run.Stdout.ShouldContain("/dev/pts devpts");
        run.Stdout.ShouldContain("/run tmpfs");
        run.Stdout.ShouldNotContain("converge-old-root");
        // sys_module (bit 16) is gone from the bounding set.
        var capBnd = Convert.ToUInt64(lines.Single(l => l.StartsWith("CapBnd:", StringComparison.Ordinal))[7..].Trim(), 16);
        (capBnd & (1UL << 16)).ShouldBe(0UL);

        (await host.ShAsync("echo x > /proc/sys/kernel/hostname")).ExitCode.ShouldNotBe(0, "/proc/sys is read-only in a host");
        (await host.ShAsync("[ -c /dev/null ] && [ -c /dev/urandom ] && [ -e /dev/ptmx ] && ! ls /dev/vda 2>/dev/null")).ExitCode.ShouldBe(0);
        (await host.ShAsync("grep -q pyenv /root/.bashrc")).ExitCode.ShouldBe(1, "root gets Debian's default .bashrc");
        (await host.ShAsync("(sleep 0.05 &); sleep 0.4; ps -eo stat= | grep -c '^Z'")).Stdout.Trim().ShouldBe("0", "init reaps orphans");
    }

    [Fact]
    public async Task Useradd_ChangesTheHostOnly()
    {
        var before = MachineSnapshot.Md5("/etc/passwd");
        await using (var host = ThrowawayHost.Start())
        {
            var add = await host.RunAsync(["useradd", "--create-home", "testuser"]);
            add.ExitCode.ShouldBe(0, add.ToString());
            (await host.RunAsync(["getent", "passwd", "testuser"])).Stdout.ShouldStartWith("testuser:x:");
            File.ReadAllText(host.Path("/etc/passwd")).ShouldContain("testuser:x:");
            File.ReadAllText(host.UpperPath("/etc/passwd")).ShouldContain("testuser:x:");
            Directory.Exists(host.UpperPath("/home/testuser")).ShouldBeTrue();
            MachineSnapshot.Md5("/etc/passwd").ShouldBe(before);
        }
        MachineSnapshot.Md5("/etc/passwd").ShouldBe(before);
        File.ReadAllText("/etc/passwd").ShouldNotContain("testuser:x:");
    }

    [Fact]
    public async Task FileWrittenInEtc_VanishesWithTheHost()
    {
        string stateDirectory;
        await using (var host = ThrowawayHost.Start())
        {
            stateDirectory = host.StateDirectory;
            await host.WriteFileAsync("/etc/converge-host-probe", "probe\n");
            (await host.RunAsync(["cat", "/etc/converge-host-probe"])).Stdout.ShouldBe("probe\n");
            File.ReadAllText(host.Path("/etc/converge-host-probe")).ShouldBe("probe\n");
            File.Exists("/etc/converge-host-probe").ShouldBeFalse();
        }
        File.Exists("/etc/converge-host-probe").ShouldBeFalse();
        Directory.Exists(stateDirectory).ShouldBeFalse();
    }

    [Fact]
    public async Task ConvergeApply_WritesTheHostsEtc_NotTheMachines()
    {
        File.Exists("/etc/converge-test.conf").ShouldBeFalse("precondition: the machine has no /etc/converge-test.conf");
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "web-1" });
        await host.WriteFileAsync("/root/site/site.yaml", """
            resources:
              - file: /etc/converge-test.conf
                content: "managed on {{ facts.hostname }}\n"
                mode: "0640"
            """);

        var apply = await host.ConvergeAsync(["apply", "/root/site", "--json"]);
        apply.ExitCode.ShouldBe(2, apply.ToString()); // docs/exit-codes.md: 2 = changes were made
        ConvergenceKit.Changes(apply).Keys.ShouldBe(["file[/etc/converge-test.conf]"]);
        var stat = await host.RunAsync(["stat", "-c", "%a %U", "/etc/converge-test.conf"]);
        stat.Stdout.ShouldBe("640 root\n");
        File.ReadAllText(host.UpperPath("/etc/converge-test.conf")).ShouldBe("managed on web-1\n");

        var again = await host.ConvergeAsync(["apply", "/root/site", "--json"]);
        again.ExitCode.ShouldBe(0, again.ToString());
        ConvergenceKit.Changes(again).ShouldBeEmpty();
        File.Exists("/etc/converge-test.conf").ShouldBeFalse();
    }

    [Fact]
    public async Task TwoHostsAtOnce_AreIndependent()
    {
        var starts = await Task.WhenAll(
            Task.Run(() => ThrowawayHost.Start(new HostOptions { Hostname = "alpha" })),
            Task.Run(() => ThrowawayHost.Start(new HostOptions { Hostname = "beta" })));
        await using var alpha = starts[0];
        await using var beta = starts[1];
        alpha.PidNamespace.ShouldNotBe(beta.PidNamespace);
        alpha.StateDirectory.ShouldNotBe(beta.StateDirectory);

        (await alpha.RunAsync(["useradd", "only-in-alpha"])).ExitCode.ShouldBe(0);
        await beta.WriteFileAsync("/etc/only-in-beta", "beta\n");

        (await alpha.RunAsync(["hostname"])).Stdout.ShouldBe("alpha\n");
        (await beta.RunAsync(["hostname"])).Stdout.ShouldBe("beta\n");
        (await beta.RunAsync(["getent", "passwd", "only-in-alpha"])).ExitCode.ShouldBe(2);
        (await alpha.RunAsync(["test", "-e", "/etc/only-in-beta"])).ExitCode.ShouldBe(1);
        (await beta.ShAsync("setsid sleep 1234 >/dev/null 2>&1 &")).ExitCode.ShouldBe(0);
        // The backgrounded child may not have exec'd sleep yet when sh returns (a loaded machine): wait for it.
        (await beta.ShAsync("for i in $(seq 100); do pgrep -x -f 'sleep 1234' >/dev/null && exit 0; sleep 0.05; done; exit 1")).ExitCode.ShouldBe(0);
        (await alpha.RunAsync(["pgrep", "-x", "-f", "sleep 1234"])).ExitCode.ShouldBe(1, "alpha does not see beta's processes");
    }

    [Fact]
    public async Task PrivateNetwork_OwnNamespaceWithLoopbackOnly_ListenersStayInside()
    {
        var machineNet = new FileInfo("/proc/self/ns/net").LinkTarget;
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "net-1", PrivateNetwork = true, MountConverge = false });

        var ns = await host.RunAsync(["readlink", "/proc/self/ns/net"]);
        ns.Stdout.Trim().ShouldNotBe(machineNet);
        new FileInfo($"/proc/{host.InitPid}/ns/net").LinkTarget.ShouldBe(ns.Stdout.Trim(), "commands join pid 1's namespace");
        var links = await host.ShAsync("ip -o link show | cut -d: -f2 | tr -d ' '; ip -o -4 addr show dev lo | grep -c ' 127.0.0.1/8 '; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags");
        links.Stdout.ShouldBe("lo\n1\nunknown\n0x9\n", links.ToString()); // IFF_UP|IFF_LOOPBACK: lo is up

        // /proc/sys/net is the host's own and writable; the rest of /proc/sys stays read-only.
        var forward = File.ReadAllText("/proc/sys/net/ipv4/ip_forward");
        var write = await host.ShAsync("echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward");
        write.Stdout.ShouldBe("1\n", write.ToString());
        File.ReadAllText("/proc/sys/net/ipv4/ip_forward").ShouldBe(forward, "the machine's sysctl is untouched");
        (await host.ShAsync("echo x > /proc/sys/kernel/hostname")).ExitCode.ShouldNotBe(0);

        // A listener inside is reachable inside and not from the machine's loopback.
        const string Listen = "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen()\nopen('/run/port','w').write(str(s.getsockname()[1]))\nwhile True:\n c,_=s.accept();c.sendall(b'hi\\n');c.close()";
        (await host.RunAsync(["/bin/sh", "-c", "setsid python3 -c \"$0\" >/dev/null 2>&1 & while [ ! -s /run/port ]; do sleep 0.05; done", Listen], timeout: TimeSpan.FromSeconds(10))).ExitCode.ShouldBe(0);
        var port = int.Parse(File.ReadAllText(host.Path("/run/port")));
        var inside = await host.RunAsync(["bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{port}; head -1 <&3"]);
        inside.Stdout.ShouldBe("hi\n", inside.ToString());
        using var client = new System.Net.Sockets.TcpClient();
        Should.Throw<System.Net.Sockets.SocketException>(() => client.Connect("127.0.0.1", port));
    }

    [Fact]
    public async Task RunAsync_TimesOut_AndKillsTheCommand()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { MountConverge = false });
        var clock = Stopwatch.StartNew();
        await Should.ThrowAsync<TimeoutException>(() => host.RunAsync(["sleep", "30"], timeout: TimeSpan.FromMilliseconds(300)));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
        (await host.RunAsync(["pgrep", "-x", "-f", "sleep 30"])).ExitCode.ShouldBe(1, "the timed-out sleep is gone");
    }

    [Fact]
    public async Task MaskedPaths_AndReadOnlyBinds()
    {
        using var dir = new TempDir();
        dir.Write("data/visible.txt", "shared\n");
        await using var host = ThrowawayHost.Start(new HostOptions
        {
            MountConverge = false,
            MaskedPaths = ["/etc/motd", "/var/lib/dpkg/info"],
            ReadOnlyBinds = [new HostBind(dir["data"], "/srv/data")],
        });
        (await host.RunAsync(["cat", "/srv/data/visible.txt"])).Stdout.ShouldBe("shared\n");
        (await host.RunAsync(["touch", "/srv/data/new"])).ExitCode.ShouldNotBe(0, "binds are read-only");
        (await host.RunAsync(["stat", "-c", "%s", "/etc/motd"])).Stdout.ShouldBe("0\n");
        (await host.ShAsync("ls -A /var/lib/dpkg/info | wc -l")).Stdout.Trim().ShouldBe("0");
    }

}

/// <summary>
/// Counts the machine's host temp dirs before and after, so it must not run while other tests start
/// hosts: it shares the leak tests' non-parallel collection.
/// </summary>
[Collection(nameof(MachineLeakTests))]
public class FailedSetupTests
{
    [Fact]
    public void FailedSetup_ReportsTheReason_AndLeavesNothing()
    {
        var before = Directory.GetDirectories("/tmp", "converge-host-*").Order().ToList();
        var error = Should.Throw<HostStartException>(() => ThrowawayHost.Start(new HostOptions
        {
            MountConverge = false,
            ReadOnlyBinds = [new HostBind("/nonexistent/converge-source", "/opt/missing")],
        }));
        error.Message.ShouldContain("host setup failed");
        error.Message.ShouldContain("/nonexistent/converge-source");
        Directory.GetDirectories("/tmp", "converge-host-*").Order().ToList().ShouldBe(before);
    }

    [Fact]
    public void SystemdNotBootedInTime_ReportsItsStateAndUnits_AndLeavesNothing()
    {
        var dirs = Directory.GetDirectories("/tmp", "converge-host-*").Order().ToList();
        var cgroups = ThrowawayHost.HostCgroups();
        var error = Should.Throw<HostStartException>(() => ThrowawayHost.Start(new HostOptions
        {
            Hostname = "slow-boot",
            Init = HostInit.Systemd,
            MountConverge = false,
            BootTimeout = TimeSpan.FromMilliseconds(50),
        }));
        error.Message.ShouldStartWith("systemd in host slow-boot did not finish booting within 0.1 s (is-system-running: ");
        error.Message.ShouldContain("\nfailed units:\n");
        error.Message.ShouldContain("\npending jobs:\n");
        Directory.GetDirectories("/tmp", "converge-host-*").Order().ToList().ShouldBe(dirs);
        ThrowawayHost.HostCgroups().ShouldBe(cgroups);
    }
}
