using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>Snapshots the whole machine, so nothing else of this assembly may start hosts meanwhile.</summary>
[CollectionDefinition(nameof(MachineLeakTests), DisableParallelization = true)]
public class MachineLeakCollection;

[Collection(nameof(MachineLeakTests))]
public class MachineLeakTests
{
    [Fact]
    public async Task Teardown_LeavesMountsDatabasesProcessesAndTempDirsAsBefore()
    {
        var before = MachineSnapshot.Take();
        string pidNamespace;
        await using (var host = ThrowawayHost.Start())
        {
            pidNamespace = host.PidNamespace;
            // Touch everything a host can: users, a daemonized background process, files, a nested mount.
            (await host.ShAsync("useradd leaktest && groupadd leakgroup && mkdir -p /mnt/x && mount -t tmpfs t /mnt/x && (setsid sleep 300 >/dev/null 2>&1 &) && echo hi > /etc/leak")).ExitCode.ShouldBe(0);
            MachineSnapshot.Take().Mounts.ShouldBe(before.Mounts, "host mounts never appear in the machine's mount table");
        }
        AssertNothingLeft(before, pidNamespace);
    }

    [Fact]
    public async Task SystemdHost_Teardown_LeavesMountsDatabasesProcessesTempDirsAndCgroupsAsBefore()
    {
        var before = MachineSnapshot.Take();
        string pidNamespace;
        await using (var host = ThrowawayHost.Start(new HostOptions { Init = HostInit.Systemd, MountConverge = false }))
        {
            pidNamespace = host.PidNamespace;
            // A unit of systemd's own (a transient service, its own cgroup), a daemon, a user, a mount.
            (await host.ShAsync("systemd-run --unit leak-probe sleep 300 && useradd leaktest && mkdir -p /mnt/x && mount -t tmpfs t /mnt/x && (setsid sleep 300 >/dev/null 2>&1 &)")).ExitCode.ShouldBe(0);
            Directory.Exists(host.CgroupPath + "/system.slice/leak-probe.service").ShouldBeTrue("the transient unit runs in the host's own cgroup subtree");
            MachineSnapshot.Take().HostCgroups.ShouldNotBe(before.HostCgroups);
            MachineSnapshot.Take().Mounts.ShouldBe(before.Mounts, "host mounts never appear in the machine's mount table");
        }
        AssertNothingLeft(before, pidNamespace);
    }

    private static void AssertNothingLeft(MachineSnapshot before, string pidNamespace)
    {
        var after = MachineSnapshot.Take();
        after.Mounts.ShouldBe(before.Mounts);
        after.Databases.ShouldBe(before.Databases);
        after.HostDirs.ShouldBe(before.HostDirs);
        after.HostCgroups.ShouldBe(before.HostCgroups);
        after.NewDescendants(before).ShouldBeEmpty();
        ThrowawayHost.ProcessesIn(pidNamespace).ShouldBeEmpty();
    }
}
