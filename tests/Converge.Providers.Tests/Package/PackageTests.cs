using System.Reflection;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Providers.Contract;
using Converge.Providers.Package;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Package;

public class PackageParseTests
{
    private readonly PackageProvider _provider = new();

    [Fact]
    public void Parse_TitleOnly_InstalledWithApt()
    {
        var spec = ParseOk<PackageSpec>(_provider, Resource("package", "nginx"));
        spec.Name.ShouldBe("nginx");
        spec.Ensure.ShouldBe(PackageEnsure.Installed);
        spec.Provider.ShouldBe("apt");
        spec.UpdateCache.ShouldBeFalse();
        spec.CacheMaxAge.ShouldBe(TimeSpan.FromHours(1));
    }

    [Theory]
    [InlineData("installed", PackageEnsure.Installed)]
    [InlineData("present", PackageEnsure.Installed)]
    [InlineData("latest", PackageEnsure.Latest)]
    [InlineData("absent", PackageEnsure.Absent)]
    [InlineData("purged", PackageEnsure.Purged)]
    public void Parse_EnsureWord_MapsToEnum(string word, PackageEnsure expected) =>
        ParseOk<PackageSpec>(_provider, Resource("package", "cvg-hello", ("ensure", word))).Ensure.ShouldBe(expected);

    [Theory]
    [InlineData("1.0")]
    [InlineData("2.36-9+deb12u4")]
    [InlineData("1:2.3~rc1-0ubuntu1")]
    [InlineData("2:1.2:3-1")]
    public void Parse_EnsureVersion_PinsIt(string version)
    {
        var spec = ParseOk<PackageSpec>(_provider, Resource("package", "cvg-hello", ("ensure", Quoted(version))));
        spec.Ensure.ShouldBe(PackageEnsure.Version);
        spec.Version.ShouldBe(version);
    }

    [Fact]
    public void Parse_UpdateCache_ReadsMaxAge()
    {
        var spec = ParseOk<PackageSpec>(_provider, Resource("package", "g++", ("update_cache", "true"), ("cache_max_age", "30m")));
        spec.UpdateCache.ShouldBeTrue();
        spec.CacheMaxAge.ShouldBe(TimeSpan.FromMinutes(30));
    }

    [Fact]
    public void Parse_BadValues_ReportsEachWithItsCode()
    {
        var (spec, errors) = Parse<PackageSpec>(_provider, Resource("package", "Nginx", ("ensure", "instaled"), ("provider", "yum")));
        spec.ShouldBeNull();
        errors.ShouldBe([
            "site.yaml:1:12: error CVG4140: package[Nginx]: 'Nginx' is not a valid package name; Debian names use lower case letters, digits, '+', '-' and '.', start with a letter or digit and are at least two characters long (e.g. nginx, libssl3)",
            "site.yaml:2:11: error CVG4142: package[Nginx]: ensure must be one of installed, present, latest, absent, purged or a version such as 1.2-1; got instaled; did you mean 'installed'?",
            "site.yaml:3:13: error CVG4143: package[Nginx]: unknown package provider 'yum'; this build has apt",
        ]);
    }

    [Theory]
    [InlineData("1.0-")]
    [InlineData("1.0 beta")]
    [InlineData("1:")]
    [InlineData("1.0:2")]
    [InlineData("1_0")]
    public void Parse_BadVersion_IsCVG4141(string version)
    {
        var (spec, errors) = Parse<PackageSpec>(_provider, Resource("package", "cvg-hello", ("ensure", Quoted(version))));
        spec.ShouldBeNull();
        errors.Single().ShouldContain("error CVG4141: package[cvg-hello]: ensure: '" + version + "' is not a valid Debian version");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-foo")]
    [InlineData("foo_bar")]
    [InlineData("foo bar")]
    [InlineData("libc6:amd64")]
    public void IsValidName_RejectsNonPolicyNames(string name) => PackageProvider.IsValidName(name).ShouldBeFalse();

    [Fact]
    public void Parse_CacheMaxAgeWithoutUpdateCache_Warns()
    {
        var (spec, errors) = Parse<PackageSpec>(_provider, Resource("package", "curl", ("cache_max_age", "1h")));
        spec.ShouldNotBeNull();
        errors.Single().ShouldContain("warning CVG4013: package[curl]: cache_max_age has no effect when update_cache is not true");
    }
}

public class PackageDiffTests
{
    private static readonly string[] Install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold"];
    private readonly PackageProvider _provider = new();

    private PackageSpec Spec(string ensure, params (string, object)[] more) =>
        ParseOk<PackageSpec>(_provider, Resource("package", "cvg-hello", [("ensure", Quoted(ensure)), .. more]));

    private static PackageActual Installed(string version) => new("cvg-hello", PackageState.Installed, version);

    [Fact]
    public void Diff_InstalledWanted_Absent_PlansInstall()
    {
        var change = _provider.Diff(Spec("installed"), PackageActual.Absent("cvg-hello")).Single();
        change.ShouldBe(change with { Property = "ensure", From = "absent", To = "installed" });
        change.Argv.ShouldBe([.. Install, "cvg-hello"]);
    }

    [Fact]
    public void Diff_InstalledWanted_AnyVersionInstalled_Converged() =>
        _provider.Diff(Spec("installed"), Installed("1.0")).ShouldBeEmpty();

    [Fact]
    public void Diff_Version_OtherInstalled_PlansPinnedInstallAllowingDowngrade()
    {
        // apt-get -y refuses to downgrade without the flag (found by the system kit, PackageKitTests).
        var change = _provider.Diff(Spec("1.0"), Installed("2.0")).Single();
        (change.From, change.To).ShouldBe(("2.0", "1.0"));
        change.Argv.ShouldBe([.. Install, "--allow-downgrades", "cvg-hello=1.0"]);
        _provider.Diff(Spec("1.0"), Installed("0:1.0")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_Version_NotInstalled_PlansPinnedInstallWithoutDowngradeFlag()
    {
        _provider.Diff(Spec("1.0"), PackageActual.Absent("cvg-hello")).Single().Argv.ShouldBe([.. Install, "cvg-hello=1.0"]);
        _provider.Diff(Spec("1.0"), new PackageActual("cvg-hello", PackageState.ConfigFiles, "2.0")).Single().Argv.ShouldBe([.. Install, "cvg-hello=1.0"]);
    }

    [Fact]
    public void Diff_Latest_CandidateNewer_PlansUpgrade()
    {
        var change = _provider.Diff(Spec("latest"), Installed("1.0") with { Candidate = "2.0" }).Single();
        (change.From, change.To).ShouldBe(("1.0", "2.0"));
        change.Argv.ShouldBe([.. Install, "cvg-hello"]);
        _provider.Diff(Spec("latest"), Installed("2.0") with { Candidate = "2.0" }).ShouldBeEmpty();
        _provider.Diff(Spec("latest"), Installed("2.0") with { Candidate = null }).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_AbsentAndPurged_RemoveOrPurge()
    {
        _provider.Diff(Spec("absent"), Installed("1.0")).Single().Argv.ShouldBe(["apt-get", "remove", "-y", "cvg-hello"]);
        _provider.Diff(Spec("absent"), new PackageActual("cvg-hello", PackageState.ConfigFiles, null)).ShouldBeEmpty();
        var purge = _provider.Diff(Spec("purged"), new PackageActual("cvg-hello", PackageState.ConfigFiles, null)).Single();
        (purge.From, purge.To).ShouldBe(("config-files", "purged"));
        purge.Argv.ShouldBe(["apt-get", "purge", "-y", "cvg-hello"]);
        _provider.Diff(Spec("purged"), PackageActual.Absent("cvg-hello")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_UpdateCache_StaleLists_UpdatesFirst_FreshListsDoNot()
    {
        var spec = Spec("latest", ("update_cache", "true"), ("cache_max_age", "1h"));
        var stale = _provider.Diff(spec, Installed("1.0") with { Candidate = "1.0", ListsAge = TimeSpan.FromHours(2) });
        stale.Single().ShouldBe(new Change("cache", "lists 2h00m old", "updated", stale[0].Argv));
        stale[0].Argv.ShouldBe(["apt-get", "update", "-q"]);
        _provider.Diff(spec, Installed("1.0") with { Candidate = "1.0", ListsAge = TimeSpan.FromMinutes(5) }).ShouldBeEmpty();
        // installed: the cache matters only when something is to be installed.
        var installed = Spec("installed", ("update_cache", "true"));
        _provider.Diff(installed, Installed("1.0") with { ListsAge = TimeSpan.FromDays(3) }).ShouldBeEmpty();
        _provider.Diff(installed, PackageActual.Absent("cvg-hello") with { ListsAge = null }).Select(c => c.Property).ShouldBe(["cache", "ensure"]);
    }

    [Fact]
    public void ParseQuery_ReadsStatesAndVersions()
    {
        var states = PackageProvider.ParseQuery(
            "cvg-hello\tinstall ok installed\t1.0\nold\tdeinstall ok config-files\t0.9\ngone\tunknown ok not-installed\t\nhalf\tinstall reinstreq half-installed\t3\n");
        states["cvg-hello"].ShouldBe(new PackageActual("cvg-hello", PackageState.Installed, "1.0"));
        states["old"].State.ShouldBe(PackageState.ConfigFiles);
        states["gone"].ShouldBe(PackageActual.Absent("gone"));
        states["half"].State.ShouldBe(PackageState.Partial);
    }

    [Fact]
    public void ParsePolicy_ReadsCandidates()
    {
        var candidates = PackageProvider.ParsePolicy("""
            cvg-hello:
              Installed: 1.0
              Candidate: 2.0
              Version table:
                 2.0 500
                    500 file:/srv/repo ./ Packages
            cvg-other:
              Installed: (none)
              Candidate: (none)
              Version table:
            """);
        candidates.ShouldBe(new Dictionary<string, string?> { ["cvg-hello"] = "2.0", ["cvg-other"] = null });
    }

    [Fact]
    public async Task ReadMany_ThreePackages_OneDpkgQueryAndOnePolicy()
    {
        var system = ScriptedSystem.Create(argv => argv[0] switch
        {
            "dpkg-query" => new ProcessResult(1, "a1\tinstall ok installed\t1.0\nb2\tdeinstall ok config-files\t2\n", "dpkg-query: no packages found matching c3\n", false, TimeSpan.Zero),
            "apt-cache" => new ProcessResult(0, "b2:\n  Installed: (none)\n  Candidate: 3\n", "", false, TimeSpan.Zero),
            _ => throw new InvalidOperationException(string.Join(' ', argv)),
        });
        var specs = new[] { ("c3", "installed"), ("a1", "1.0"), ("b2", "latest") }
            .Select(p => (ResourceSpec)ParseOk<PackageSpec>(_provider, Resource("package", p.Item1, ("ensure", Quoted(p.Item2))))).ToList();
        var read = await _provider.ReadManyAsync(specs, new ProviderContext(system, null!, new HashSet<string>()), CancellationToken.None);
        ScriptedSystem.Calls(system).ShouldBe([
            "dpkg-query -W -f=${Package}\\t${Status}\\t${Version}\\n a1 b2 c3",
            "apt-cache policy b2",
        ]);
        read[new ResourceId("package", "a1")].ShouldBe(new PackageActual("a1", PackageState.Installed, "1.0"));
        read[new ResourceId("package", "b2")].ShouldBe(new PackageActual("b2", PackageState.ConfigFiles, "2") { Candidate = "3" });
        read[new ResourceId("package", "c3")].ShouldBe(PackageActual.Absent("c3"));
    }
}

/// <summary>An <see cref="ISystem"/> that answers RunAsync from a function and records each argv; every other member throws.</summary>
public class ScriptedSystem : DispatchProxy
{
    private Func<IReadOnlyList<string>, ProcessResult> _answer = null!;
    private readonly List<string> _calls = [];

    public static ISystem Create(Func<IReadOnlyList<string>, ProcessResult> answer)
    {
        var system = DispatchProxy.Create<ISystem, ScriptedSystem>();
        ((ScriptedSystem)(object)system)._answer = answer;
        return system;
    }

    public static IReadOnlyList<string> Calls(ISystem system) => ((ScriptedSystem)(object)system)._calls;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod?.Name != nameof(ISystem.RunAsync)) throw new NotSupportedException(targetMethod?.Name);
        var spec = (ProcessSpec)args![0]!;
        lock (_calls) _calls.Add(string.Join(' ', spec.Argv));
        return Task.FromResult(_answer(spec.Argv));
    }
}
