using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>A host whose only apt source is a local repository of tiny packages built in it (as in <see cref="PackageTests"/>).</summary>
public sealed class PackageKitHost : KitHost
{
    protected override string Hostname => "kit-pkg";

    protected override async Task PrepareAsync(ThrowawayHost host)
    {
        await LocalAptRepository.CreateAsync(host, ("cvg-down", "1.0"), ("cvg-down", "2.0"), ("cvg-purge", "1.0"));
    }
}

/// <summary>
/// <c>package</c> changes not covered by <see cref="PackageTests"/>: a pinned version lower than the
/// installed one (a downgrade), and purged straight from installed; real apt-get and dpkg, judged by
/// dpkg-query and the files on disk.
/// </summary>
public class PackageKitTests(PackageKitHost fixture, ITestOutputHelper output) : IClassFixture<PackageKitHost>
{
    private const string Install = "$ apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold";

    private static readonly KitCase[] All =
    [
        new("pinned-downgrade")
        {
            Setup = "apt-get install -y -q cvg-down=2.0",
            Site = "resources:\n  - package: cvg-down\n    ensure: \"1.0\"\n",
            Shows = ["ensure: 2.0 → 1.0", $"{Install} --allow-downgrades cvg-down=1.0"],
            Probe = "dpkg-query -W -f='${Status} ${Version}\\n' cvg-down; cat /usr/share/cvg-down/VERSION",
            Expected = "install ok installed 1.0\n1.0\n",
            Drift = "apt-get install -y -q cvg-down=2.0",
            DriftShows = ["ensure: 2.0 → 1.0"],
        },
        new("purged-from-installed")
        {
            Setup = "apt-get install -y -q cvg-purge && echo setting=local > /etc/cvg-purge.conf",
            Site = "resources:\n  - package: cvg-purge\n    ensure: purged\n",
            Shows = ["ensure: 1.0 → purged", "$ apt-get purge -y cvg-purge"],
            Probe = "dpkg-query -W -f='${db:Status-Status}\\n' cvg-purge 2>/dev/null | grep -v '^not-installed$'; test -e /etc/cvg-purge.conf && echo conffile || echo no-conffile",
            Expected = "no-conffile\n",
            Drift = "apt-get install -y -q cvg-purge",
            DriftShows = ["$ apt-get purge -y cvg-purge"],
        },
    ];

    public static TheoryData<string> Cases => new(All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task PackageChange_ConvergenceKit(string name) => HostKit.RunAsync(fixture.Host, All.Single(c => c.Name == name), output);
}
