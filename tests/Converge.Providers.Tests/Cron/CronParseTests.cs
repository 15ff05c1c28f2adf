using Converge.Providers.Cron;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Cron;

public class CronParseTests
{
    private readonly CronProvider _provider = new();

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<CronSpec>(_provider, Resource("cron", "backup",
            ("user", "deploy"), ("schedule", Quoted("30 2 * * 1-5")), ("command", "/usr/local/bin/backup --quiet"),
            ("environment", Map(("MAILTO", Plain("ops@example.com")), ("PATH", Plain("/usr/bin:/bin")))), ("ensure", "present")));
        spec.User.ShouldBe("deploy");
        spec.Schedule.ShouldBe("30 2 * * 1-5");
        spec.Target.ShouldBe(CronTarget.Crontab);
        spec.Block().ShouldBe([
            "# converge: cron[backup]",
            "MAILTO=ops@example.com",
            "PATH=/usr/bin:/bin",
            "30 2 * * 1-5 /usr/local/bin/backup --quiet",
        ]);
    }

    [Fact]
    public void Parse_Fields_DefaultToStarAndUserRoot()
    {
        var spec = ParseOk<CronSpec>(_provider, Resource("cron", "x", ("minute", "*/15"), ("weekday", "7"), ("command", "true")));
        spec.Schedule.ShouldBe("*/15 * * * 7");
        spec.User.ShouldBe("root");
    }

    [Theory]
    [InlineData("@daily")]
    [InlineData("@reboot")]
    [InlineData("@annually")]
    [InlineData("0 0 1,15 jan-jun mon-fri")]
    [InlineData("0 12 * * 0-7")]
    public void Parse_ScheduleCronAccepts_IsValid(string schedule) =>
        ParseOk<CronSpec>(_provider, Resource("cron", "x", ("schedule", Quoted(schedule)), ("command", "true"))).Schedule.ShouldBe(schedule);

    [Fact]
    public void Parse_MinuteOutOfRange_ReportsAtThatField()
    {
        var (spec, errors) = Parse<CronSpec>(_provider, Resource("cron", "x", ("schedule", Quoted("0 25 * * *")), ("command", "true")));
        spec.ShouldBeNull();
        errors.ShouldBe(["site.yaml:2:16: error CVG4120: cron[x]: hour '25' is not valid: 25 is higher than the maximum allowable value for the hour field. Value must be between 0 and 23 (all inclusive)"]);
    }

    [Fact]
    public void Parse_WeekdayEight_SaysSevenIsAllowed()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "x", ("weekday", "8"), ("command", "true")));
        errors.ShouldBe(["site.yaml:2:12: error CVG4120: cron[x]: weekday '8' is not valid: 8 is higher than the maximum allowable value for the weekday field. Value must be between 0 and 7 (all inclusive)"]);
    }

    [Fact]
    public void Parse_WrongFieldCountAndBadMacro_Report()
    {
        var (_, four) = Parse<CronSpec>(_provider, Resource("cron", "x", ("schedule", Quoted("0 0 * *")), ("command", "true")));
        four.ShouldBe(["site.yaml:2:13: error CVG4120: cron[x]: schedule must have 5 fields (minute hour monthday month weekday) or be a macro such as @daily; got 4 in '0 0 * *'"]);
        var (_, macro) = Parse<CronSpec>(_provider, Resource("cron", "x", ("schedule", "@dialy"), ("command", "true")));
        macro.ShouldBe(["site.yaml:2:13: error CVG4120: cron[x]: schedule must be five fields or one of @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly; got @dialy; did you mean '@daily'?"]);
    }

    [Fact]
    public void Parse_StepZeroAndLetterL_Report()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "x", ("schedule", Quoted("*/0 0 L * *")), ("command", "true")));
        errors.ShouldBe([
            "site.yaml:2:14: error CVG4120: cron[x]: minute '*/0' has a step of 0; a step must be 1 or more",
            "site.yaml:2:20: error CVG4120: cron[x]: monthday 'L' is not valid: 'L' is not a valid monthday field expression",
        ]);
    }

    [Fact]
    public void Parse_ScheduleAndField_Conflict()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "x", ("schedule", "@daily"), ("hour", "3"), ("command", "true")));
        errors.ShouldBe(["site.yaml:3:9: error CVG4010: cron[x]: schedule and hour cannot both be set; choose one"]);
    }

    [Fact]
    public void Parse_Missing_ReportsScheduleAndCommand()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "x"));
        errors.ShouldBe([
            "site.yaml:1:3: error CVG4002: cron[x]: missing required property 'command' when ensure is present",
            "site.yaml:1:3: error CVG4002: cron[x]: missing required property 'schedule' (or minute, hour, monthday, month, weekday) when ensure is present",
        ]);
    }

    [Fact]
    public void Parse_MultiLineCommandAndBadEnvironment_Report()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "x", ("schedule", "@daily"), ("command", Quoted("a\nb")),
            ("environment", Map(("1BAD", Plain("x"))))));
        errors.ShouldBe([
            "site.yaml:3:12: error CVG4121: cron[x]: command must be a single line: a crontab entry ends at the line break",
            "site.yaml:4:16: error CVG4121: cron[x]: environment name '1BAD' must be letters, digits and '_', not starting with a digit",
        ]);
    }

    [Fact]
    public void Parse_CrondBadName_Reports()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "nightly.backup", ("target", "crond"), ("schedule", "@daily"), ("command", "true")));
        errors.ShouldBe(["site.yaml:1:9: error CVG4122: cron[nightly.backup]: with target: crond the title is the file name in /etc/cron.d and may hold only letters, digits, '-' and '_' (cron skips other names); got nightly.backup"]);
    }

    [Fact]
    public void Parse_NumericUser_Reports()
    {
        var (_, errors) = Parse<CronSpec>(_provider, Resource("cron", "x", ("user", "1000"), ("schedule", "@daily"), ("command", "true")));
        errors.ShouldBe(["site.yaml:2:9: error CVG4012: cron[x]: user must be a user name, not a numeric id; got 1000"]);
    }

    [Fact]
    public void Parse_Absent_NeedsNothingButWarnsAboutSchedule()
    {
        var (spec, warnings) = Parse<CronSpec>(_provider, Resource("cron", "x", ("ensure", "absent"), ("schedule", "@daily")));
        spec.ShouldNotBeNull();
        warnings.ShouldBe(["site.yaml:3:3: warning CVG4013: cron[x]: schedule has no effect when ensure is absent"]);
    }

    [Fact]
    public void AutoRequiresAndExclusiveKey_UserAndCrontab()
    {
        var spec = ParseOk<CronSpec>(_provider, Resource("cron", "x", ("user", "deploy"), ("schedule", "@daily"), ("command", "true")));
        _provider.AutoRequires(spec).Select(r => string.Join(" | ", r.FirstOf)).ShouldBe(["user[deploy]"]);
        ((IResourceProvider)_provider).ExclusiveKey(spec).ShouldBe("crontab:deploy");
        var crond = ParseOk<CronSpec>(_provider, Resource("cron", "x", ("target", "crond"), ("schedule", "@daily"), ("command", "true")));
        _provider.AutoRequires(crond).Select(r => string.Join(" | ", r.FirstOf))
            .ShouldBe(["user[root]", "directory[/etc/cron.d] | directory[/etc] | directory[/]"]);
        ((IResourceProvider)_provider).ExclusiveKey(crond).ShouldBe("path:/etc/cron.d/x");
    }
}
