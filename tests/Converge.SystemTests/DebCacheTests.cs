using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>Packages the machine lacks, installed with real dpkg inside a host and nowhere else.</summary>
public class DebCacheTests
{
    [Fact]
    public async Task RunitSudoCron_InstallInTheHost_NotOnTheMachine()
    {
        var status = MachineSnapshot.Md5("/var/lib/dpkg/status");
        await using var host = ThrowawayHost.Start(new HostOptions { MountConverge = false });

        await DebCache.InstallAsync(host, "runit", "sudo", "cron");

        var query = await host.RunAsync(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", "runit", "sudo", "cron"]);
        query.Stdout.ShouldBe("cron installed\nrunit installed\nsudo installed\n", query.ToString());
        (await host.RunAsync(["sudo", "-n", "true"])).ExitCode.ShouldBe(0);
        (await host.RunAsync(["pgrep", "-x", "cron"])).ExitCode.ShouldBe(1, "policy-rc.d keeps maintainer scripts from starting daemons");
        MachineSnapshot.Md5("/var/lib/dpkg/status").ShouldBe(status);
        File.Exists("/usr/bin/sudo").ShouldBeFalse("sudo exists only in the host");
    }
}
