using Converge.Providers.Cron;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Cron;

public class CronDiffTests
{
    private readonly CronProvider _provider = new();

    private CronSpec Spec(params (string, object)[] properties) => ParseOk<CronSpec>(_provider, Resource("cron", "backup", properties));

    private const string HandMade = "MAILTO=me\n# my own\n5 * * * * /bin/hand-made\n";

    [Fact]
    public void Diff_NoCrontab_AddsBlockWithArgvAndDiff()
    {
        var change = _provider.Diff(Spec(("schedule", "@daily"), ("command", "/bin/backup")), new CronActual()).Single();
        change.Property.ShouldBe("ensure");
        change.Argv.ShouldBe(["crontab", "-u", "root", "-"]);
        change.UnifiedDiff.ShouldBe("""
            --- crontab -u root (current)
            +++ crontab -u root (new)
            @@ -0,0 +1,2 @@
            +# converge: cron[backup]
            +@daily /bin/backup

            """);
    }

    [Fact]
    public void Diff_HandMadeLines_AppendsAfterThemAndKeepsThem()
    {
        var change = _provider.Diff(Spec(("schedule", "@daily"), ("command", "/bin/backup")), new CronActual { Content = HandMade }).Single();
        change.UnifiedDiff.ShouldBe("""
            --- crontab -u root (current)
            +++ crontab -u root (new)
            @@ -1,3 +1,5 @@
             MAILTO=me
             # my own
             5 * * * * /bin/hand-made
            +# converge: cron[backup]
            +@daily /bin/backup

            """);
    }

    [Fact]
    public void Diff_Converged_IsEmpty()
    {
        var content = HandMade + "# converge: cron[backup]\nA=1\n@daily /bin/backup\n";
        _provider.Diff(Spec(("schedule", "@daily"), ("command", "/bin/backup"), ("environment", Map(("A", Plain("1"))))),
            new CronActual { Content = content }).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_ScheduleDrift_ReplacesOnlyTheBlock()
    {
        var content = "# converge: cron[backup]\n0 3 * * * /bin/backup\n5 * * * * /bin/hand-made\n";
        var change = _provider.Diff(Spec(("schedule", Quoted("0 4 * * *")), ("command", "/bin/backup")), new CronActual { Content = content }).Single();
        change.Property.ShouldBe("job");
        change.From.ShouldBe("0 3 * * * /bin/backup");
        change.To.ShouldBe("0 4 * * * /bin/backup");
        CronText.Edit(content, "# converge: cron[backup]", ["# converge: cron[backup]", "0 4 * * * /bin/backup"])
            .ShouldBe("# converge: cron[backup]\n0 4 * * * /bin/backup\n5 * * * * /bin/hand-made\n");
    }

    [Fact]
    public void Diff_OnlyEnvironmentDiffers_IsAnEnvironmentChange()
    {
        // Found by CronKitTests: this was "job: @daily /bin/backup → @daily /bin/backup".
        var content = "# converge: cron[backup]\nMAILTO=old\n@daily /bin/backup\n";
        var spec = Spec(("schedule", "@daily"), ("command", "/bin/backup"), ("environment", Map(("MAILTO", Plain("ops")), ("PATH", Plain("/bin")))));
        var change = _provider.Diff(spec, new CronActual { Content = content }).Single();
        (change.Property, change.From, change.To).ShouldBe(("environment", "MAILTO=old", "MAILTO=ops PATH=/bin"));
        change.Argv.ShouldBe(["crontab", "-u", "root", "-"]);
        change.UnifiedDiff!.ShouldContain("+PATH=/bin");
        var removed = _provider.Diff(Spec(("schedule", "@daily"), ("command", "/bin/backup")), new CronActual { Content = content }).Single();
        (removed.Property, removed.From, removed.To).ShouldBe(("environment", "MAILTO=old", "(none)"));
    }

    [Fact]
    public void Diff_CrondFileWithoutMarker_IsReplacedWhole()
    {
        // A hand-made /etc/cron.d/backup without our marker used to throw IndexOutOfRangeException.
        var spec = ParseOk<CronSpec>(_provider, Resource("cron", "backup", ("target", "crond"), ("schedule", "@hourly"), ("command", "/bin/backup")));
        var change = _provider.Diff(spec, new CronActual { Content = "@daily root /bin/other\n" }).Single();
        (change.Property, change.From, change.To).ShouldBe(("job", "(none)", "@hourly root /bin/backup"));
        change.UnifiedDiff!.ShouldContain("-@daily root /bin/other");
    }

    [Fact]
    public void Diff_Absent_RemovesBlockWithItsEnvironment()
    {
        var content = "# converge: cron[backup]\nA=1\n@daily /bin/backup\n5 * * * * /bin/hand-made\n";
        var change = _provider.Diff(Spec(("ensure", "absent")), new CronActual { Content = content }).Single();
        change.Property.ShouldBe("ensure");
        change.To.ShouldBe("absent");
        CronText.Edit(content, "# converge: cron[backup]", null).ShouldBe("5 * * * * /bin/hand-made\n");
        _provider.Diff(Spec(("ensure", "absent")), new CronActual { Content = HandMade }).ShouldBeEmpty();
    }

    [Fact]
    public void Edit_NoFinalNewline_GetsOne()
    {
        CronText.Edit("5 * * * * x", "# converge: cron[y]", ["# converge: cron[y]", "@daily y"])
            .ShouldBe("5 * * * * x\n# converge: cron[y]\n@daily y\n");
    }

    [Fact]
    public void Diff_Crond_WholeFileWithUserField()
    {
        var spec = ParseOk<CronSpec>(_provider, Resource("cron", "backup", ("target", "crond"), ("user", "deploy"), ("schedule", "@hourly"), ("command", "/bin/backup")));
        var change = _provider.Diff(spec, new CronActual()).Single();
        change.Argv.ShouldBeNull();
        change.UnifiedDiff.ShouldBe("""
            --- /dev/null
            +++ /etc/cron.d/backup
            @@ -0,0 +1,2 @@
            +# converge: cron[backup]
            +@hourly deploy /bin/backup

            """);
    }

    [Fact]
    public void Diff_SensitiveCommand_RedactsJobAndDiff()
    {
        var spec = ParseOk<CronSpec>(_provider, Resource("cron", "backup", ("schedule", "@daily"), ("command", Plain("curl -u me:s3cret x", sensitive: true))));
        var change = _provider.Diff(spec, new CronActual { Content = "# converge: cron[backup]\n@hourly old\n" }).Single();
        ConvergenceKit.Show(change).ShouldBe("job: (redacted) -> (redacted) argv=[crontab, -u, root, -]");
    }
}
