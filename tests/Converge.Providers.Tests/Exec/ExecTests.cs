using Converge.Providers.Exec;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Exec;

public class ExecParseAndDiffTests
{
    private readonly ExecProvider _provider = new();

    [Fact]
    public void Parse_NoCommand_TitleIsShellCommand()
    {
        var spec = ParseOk<ExecSpec>(_provider, Resource("exec", "update-ca-certificates --fresh"));
        spec.Command.Argv.ShouldBe(["/bin/sh", "-c", "update-ca-certificates --fresh"]);
        spec.Timeout.ShouldBe(TimeSpan.FromSeconds(300));
        spec.Returns.ShouldBe([0]);
        _provider.ReadDependsOnUpstream(spec).ShouldBeFalse();
    }

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<ExecSpec>(_provider, Resource("exec", "migrate",
            ("command", List(Plain("/usr/bin/env"), Plain("migrate"))), ("creates", "/var/lib/app/migrated"),
            ("onlyif", "test -d /var/lib/app"), ("unless", List(Plain("/bin/false"))), ("refreshonly", "true"),
            ("cwd", "/var/lib/app"), ("environment", Map(("RAILS_ENV", Plain("production")))), ("user", "nobody"),
            ("timeout", "5m"), ("returns", List(Plain("0"), Plain("2")))));
        spec.Command.Argv.ShouldBe(["/usr/bin/env", "migrate"]);
        spec.Creates.ShouldBe("/var/lib/app/migrated");
        spec.OnlyIf!.Argv.ShouldBe(["/bin/sh", "-c", "test -d /var/lib/app"]);
        spec.Unless!.Argv.ShouldBe(["/bin/false"]);
        spec.RefreshOnly.ShouldBeTrue();
        spec.Environment.ShouldBe(new Dictionary<string, string> { ["RAILS_ENV"] = "production" });
        spec.User.ShouldBe(new Principal("nobody"));
        spec.Timeout.ShouldBe(TimeSpan.FromMinutes(5));
        spec.Returns.ShouldBe([0, 2]);
        _provider.ReadDependsOnUpstream(spec).ShouldBeTrue();
        _provider.AutoRequires(spec).Select(r => r.FirstOf.Single().ToString()).ShouldBe(["user[nobody]", "directory[/var/lib/app]"]);
    }

    [Fact]
    public void Parse_BadValues_ReportsEach()
    {
        var (spec, errors) = Parse<ExecSpec>(_provider, Resource("exec", "x",
            ("cwd", "relative"), ("timeout", "soon"), ("returns", "zero"), ("refreshonly", "maybe"), ("onlyif", List())));
        spec.ShouldBeNull();
        errors.ShouldBe([
            "site.yaml:2:8: error CVG4009: exec[x]: cwd must be an absolute, normalized path such as /etc/motd; got relative",
            "site.yaml:3:12: error CVG4008: exec[x]: timeout must be a positive duration such as 30, 30s, 5m or 1h; got soon",
            "site.yaml:4:12: error CVG4007: exec[x]: returns must be an integer; got zero",
            "site.yaml:5:16: error CVG4005: exec[x]: refreshonly must be true or false; got maybe",
            "site.yaml:6:11: error CVG4011: exec[x]: onlyif must not be empty; give the program first, then its arguments",
        ]);
    }

    [Fact]
    public void Diff_ShouldRun_OneCommandChangeWithExactArgv()
    {
        var spec = ParseOk<ExecSpec>(_provider, Resource("exec", "reload", ("command", List(Plain("systemctl"), Plain("reload"), Plain("nginx")))));
        ConvergenceKit.Show(_provider.Diff(spec, ExecActual.Unguarded))
            .ShouldBe(["command: null -> systemctl reload nginx argv=[systemctl, reload, nginx]"]);
        _provider.Diff(spec, new ExecActual(false, "unless exited 0")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_RefreshOnly_NothingButPlanRefreshShowsCommand()
    {
        var spec = ParseOk<ExecSpec>(_provider, Resource("exec", "newaliases", ("refreshonly", "true")));
        _provider.Diff(spec, ExecActual.Unguarded).ShouldBeEmpty();
        _provider.IsRefreshable.ShouldBeTrue();
        ConvergenceKit.Show(_provider.PlanRefresh(spec)).ShouldBe(["command: null -> newaliases argv=[/bin/sh, -c, newaliases]"]);
    }

    [Fact]
    public void ProcessFor_CarriesCwdEnvironmentUserTimeout()
    {
        var spec = ParseOk<ExecSpec>(_provider, Resource("exec", "x", ("cwd", "/srv"), ("environment", Map(("A", Plain("1")))),
            ("user", "nobody"), ("timeout", "10")));
        var process = ExecProvider.ProcessFor(spec, spec.Command);
        (process.WorkingDirectory, process.User, process.Timeout).ShouldBe(("/srv", "nobody", TimeSpan.FromSeconds(10)));
        process.Environment!["A"].ShouldBe("1");
    }
}

/// <summary>The exec provider running real processes through LocalSystem, in a fresh temp directory per test.</summary>
public sealed class ExecRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TempDirectory _bucketDir = new();
    private readonly ExecProvider _provider = new();
    private readonly ConvergenceKit _kit;

    public ExecRunTests() => _kit = new ConvergenceKit(_provider, _bucketDir.Path);

    public void Dispose()
    {
        _dir.Dispose();
        _bucketDir.Dispose();
    }

    private static ExecSpec Spec(string title, params (string, object)[] properties) =>
        ParseOk<ExecSpec>(new ExecProvider(), Resource("exec", title, properties));

    [Fact]
    public async Task Creates_RunsOnceThenConverged_DeletingTheFileIsDrift()
    {
        var marker = _dir["marker"];
        var spec = Spec("make marker", ("command", Quoted($"echo made >> {marker}")), ("creates", marker));

        var applied = await _kit.ConvergeAsync(spec);

        ConvergenceKit.Show(applied).ShouldBe([$"command: null -> echo made >> {marker} argv=[/bin/sh, -c, echo made >> {marker}]"]);
        IOFile.ReadAllText(marker).ShouldBe("made\n");
        IOFile.Delete(marker);
        (await _kit.PlanAsync(spec)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task OnlyIf_RunsOnlyWhenCheckSucceeds()
    {
        var flag = _dir["flag"];
        var spec = Spec("x", ("command", Quoted($"touch {_dir["ran"]}")), ("onlyif", Quoted($"test -e {flag}")));
        (await _kit.PlanAsync(spec)).ShouldBeEmpty();

        await IOFile.WriteAllTextAsync(flag, "");
        await _kit.ApplyAsync(spec);
        IOFile.Exists(_dir["ran"]).ShouldBeTrue();
    }

    [Fact]
    public async Task Unless_SkipsWhenCheckSucceeds_ConvergesAfterRun()
    {
        var state = _dir["state"];
        var spec = Spec("x", ("command", Quoted($"echo done > {state}")), ("unless", List(Plain("grep"), Plain("-q"), Plain("done"), Plain(state))));
        await _kit.ConvergeAsync(spec);
        IOFile.ReadAllText(state).ShouldBe("done\n");
    }

    [Fact]
    public async Task Returns_NonZeroListed_Succeeds()
    {
        await _kit.ApplyAsync(Spec("exit 3", ("returns", List(Plain("0"), Plain("3")))));
    }

    [Fact]
    public async Task Returns_ExitNotListed_FailsWithArgvExitCodeAndTail()
    {
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(Spec("echo first >&2; echo oops >&2; exit 4")));
        error.Message.ShouldBe("command exited 4 (expected 0): echo first >&2; echo oops >&2; exit 4\nfirst\noops");
    }

    [Fact]
    public async Task Timeout_KillsAndFails()
    {
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(Spec("sleep 30", ("timeout", "1"))));
        error.Message.ShouldBe("command timed out after 1s and was killed: sleep 30");
    }

    [Fact]
    public async Task Cwd_And_Environment_ReachTheCommand()
    {
        var spec = Spec("x", ("command", Quoted("pwd > out; echo \"$GREETING\" >> out")), ("cwd", _dir.Path),
            ("environment", Map(("GREETING", Plain("hello")))));
        await _kit.ApplyAsync(spec);
        IOFile.ReadAllText(_dir["out"]).ShouldBe($"{_dir.Path}\nhello\n");
    }

    [Fact]
    public async Task Guards_RunWithCwdAndEnvironment()
    {
        var spec = Spec("x", ("command", Quoted("touch ran")), ("cwd", _dir.Path), ("environment", Map(("GO", Plain("yes")))),
            ("onlyif", Quoted("test \"$GO\" = yes && test \"$(pwd)\" = " + _dir.Path)));
        await _kit.ApplyAsync(spec);
        IOFile.Exists(_dir["ran"]).ShouldBeTrue();
    }

    [Fact]
    public async Task User_Nobody_RunsAsNobody()
    {
        IOFile.SetUnixFileMode(_dir.Path, (UnixFileMode)0x1FF); // 0777, so nobody can write the result
        var spec = Spec("x", ("command", Quoted("id -un > whoami")), ("cwd", _dir.Path), ("user", "nobody"),
            ("unless", Quoted("test \"$(id -un)\" = root")));
        // The guard runs as nobody too: "not root" means run.
        await _kit.ApplyAsync(spec);
        IOFile.ReadAllText(_dir["whoami"]).ShouldBe("nobody\n");
        _kit.System.Stat(_dir["whoami"])!.Uid.ShouldBe(65534);
    }

    [Fact]
    public async Task RefreshOnly_PlanAndApplyDoNothing_RefreshRuns()
    {
        var spec = Spec("x", ("command", Quoted($"echo refreshed >> {_dir["log"]}")), ("refreshonly", "true"));
        (await _kit.ApplyAsync(spec)).ShouldBeEmpty();
        IOFile.Exists(_dir["log"]).ShouldBeFalse();

        await _provider.RefreshAsync(spec, _kit.Context, CancellationToken.None);
        IOFile.ReadAllText(_dir["log"]).ShouldBe("refreshed\n");
    }

    [Fact]
    public async Task Refresh_ReevaluatesGuards()
    {
        var marker = _dir["m"];
        var spec = Spec("x", ("command", Quoted($"echo ran >> {_dir["log"]}")), ("refreshonly", "true"), ("creates", marker));
        await IOFile.WriteAllTextAsync(marker, "");
        await _provider.RefreshAsync(spec, _kit.Context, CancellationToken.None);
        IOFile.Exists(_dir["log"]).ShouldBeFalse();
    }

    [Fact]
    public async Task Guard_MissingProgram_FailsRead()
    {
        var spec = Spec("x", ("onlyif", List(Plain("/no/such/program"))));
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.PlanAsync(spec));
        error.Message.ShouldBe("cannot run /no/such/program: no such executable file (command: /no/such/program)");
    }

    [Fact]
    public async Task Cwd_Missing_FailsClearly()
    {
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(Spec("true", ("cwd", _dir["gone"]))));
        error.Message.ShouldBe($"cannot run /bin/sh in {_dir["gone"]}: no such directory (command: true)");
    }

    [Fact]
    public async Task User_Missing_FailsClearly()
    {
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(Spec("true", ("user", "no-such-user-cvg"))));
        error.Message.ShouldBe("user no-such-user-cvg does not exist; create it (a user resource is required automatically) or use a numeric uid");
    }

    [Fact]
    public async Task Guard_Timeout_FailsRead()
    {
        var spec = Spec("x", ("unless", "sleep 30"), ("timeout", "1"));
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.PlanAsync(spec));
        error.Message.ShouldBe("unless check timed out after 1s: sleep 30");
    }

    [Fact]
    public async Task SensitiveCommand_FailureMessageIsRedacted()
    {
        var spec = ParseOk<ExecSpec>(_provider, Resource("exec", "x", ("command", Plain("exit 9 # s3cret", sensitive: true))));
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(spec));
        error.Message.ShouldBe("command exited 9 (expected 0): (redacted)");
    }
}
