using Xunit.Abstractions;

namespace Converge.SystemTests;

public sealed class GroupKitHost : KitHost
{
    protected override string Hostname => "kit-group";

    protected override async Task PrepareAsync(Converge.Testing.Hosts.ThrowawayHost host)
    {
        var users = await host.ShAsync("useradd km1 && useradd km2 && useradd km3");
        users.ExitCode.ShouldBe(0, users.ToString());
    }
}

/// <summary>
/// Every property of <c>group</c> changed with real shadow-utils through the convergence kit
/// (<see cref="HostKit"/>), in one host; the members are the users km1..km3 made once for all cases.
/// </summary>
public class GroupKitTests(GroupKitHost fixture, ITestOutputHelper output) : IClassFixture<GroupKitHost>
{
    private const string Members = "getent group {0} | cut -d: -f4 | tr , '\\n' | sort";

    private static readonly KitCase[] All =
    [
        new("gid")
        {
            Setup = "groupadd --gid 3200 kgr-gid && useradd --gid kgr-gid kgr-user",
            Site = "resources:\n  - group: kgr-gid\n    gid: 3201\n",
            Shows = ["gid: 3200 → 3201", "$ groupmod --gid 3201 kgr-gid"],
            // groupmod also moves the primary group of the group's users.
            Probe = "getent group kgr-gid | cut -d: -f3; id -g kgr-user",
            Expected = "3201\n3201\n",
            Drift = "groupmod --gid 3202 kgr-gid",
            DriftShows = ["gid: 3202 → 3201", "$ groupmod --gid 3201 kgr-gid"],
        },
        new("members-minimum")
        {
            Setup = "groupadd kgr-min && gpasswd --add km3 kgr-min",
            Site = "resources:\n  - group: kgr-min\n    members: [km2, km1]\n",
            Shows = ["$ gpasswd --add km1 kgr-min", "$ gpasswd --add km2 kgr-min"],
            Probe = string.Format(Members, "kgr-min"),
            Expected = "km1\nkm2\nkm3\n",
            Drift = "gpasswd --delete km1 kgr-min",
            DriftShows = ["$ gpasswd --add km1 kgr-min"],
        },
        new("members-exact")
        {
            Setup = "groupadd kgr-exact && gpasswd --add km2 kgr-exact",
            Site = "resources:\n  - group: kgr-exact\n    members: [km1]\n    membership: exact\n",
            Shows = ["$ gpasswd --add km1 kgr-exact", "$ gpasswd --delete km2 kgr-exact"],
            Probe = string.Format(Members, "kgr-exact"),
            Expected = "km1\n",
            Drift = "gpasswd --add km3 kgr-exact && gpasswd --delete km1 kgr-exact",
            DriftShows = ["$ gpasswd --add km1 kgr-exact", "$ gpasswd --delete km3 kgr-exact"],
        },
        new("system")
        {
            Site = "resources:\n  - group: kgr-sys\n    system: true\n",
            Shows = ["$ groupadd --system kgr-sys"],
            Probe = "g=$(getent group kgr-sys | cut -d: -f3) && [ -n \"$g\" ] && [ $g -lt 1000 ] && echo system-gid || echo none",
            Expected = "system-gid\n",
            Drift = "groupdel kgr-sys",
            DriftShows = ["$ groupadd --system kgr-sys"],
        },
        new("new-with-gid-and-members")
        {
            Site = "resources:\n  - group: kgr-new\n    gid: 3300\n    members: [km1, km2]\n",
            Shows = ["$ groupadd --gid 3300 kgr-new", "$ gpasswd --add km1 kgr-new", "$ gpasswd --add km2 kgr-new"],
            Probe = "getent group kgr-new",
            Expected = "kgr-new:x:3300:km1,km2\n",
            Drift = "groupdel kgr-new",
            DriftShows = ["$ groupadd --gid 3300 kgr-new"],
        },
        new("absent")
        {
            Setup = "groupadd kgr-gone",
            Site = "resources:\n  - group: kgr-gone\n    ensure: absent\n",
            Shows = ["ensure: present → absent", "$ groupdel kgr-gone"],
            Probe = "getent group kgr-gone | cut -d: -f1",
            Expected = "",
            Drift = "groupadd kgr-gone",
            DriftShows = ["$ groupdel kgr-gone"],
        },
    ];

    public static TheoryData<string> Cases => new(All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task GroupProperty_ConvergenceKit(string name) => HostKit.RunAsync(fixture.Host, All.Single(c => c.Name == name), output);
}
