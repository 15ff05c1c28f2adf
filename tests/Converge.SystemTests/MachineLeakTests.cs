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
        var after = MachineSnapshot.Take();
        after.Mounts.ShouldBe(before.Mounts);
        after.Databases.ShouldBe(before.Databases);
        after.HostDirs.ShouldBe(before.HostDirs);
        after.NewDescendants(before).ShouldBeEmpty();
        ThrowawayHost.ProcessesIn(pidNamespace).ShouldBeEmpty();
    }
}
