using Converge.Providers.Line;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Line;

public class LineParseTests
{
    private readonly LineProvider _provider = new();

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<LineSpec>(_provider, Resource("line", "root-login",
            ("path", "/etc/ssh/sshd_config"), ("text", Quoted("PermitRootLogin no")), ("ensure", "present"),
            ("match", Quoted("^#?PermitRootLogin")), ("insert_after", Quoted("^# Authentication")), ("multiple", "true"),
            ("create", "true"), ("backup", "false")));
        spec.Path.ShouldBe("/etc/ssh/sshd_config");
        spec.Text.ShouldBe("PermitRootLogin no");
        spec.Ensure.ShouldBe(LineEnsure.Present);
        spec.Match!.Text.ShouldBe("^#?PermitRootLogin");
        spec.Match.IsMatch("#PermitRootLogin yes").ShouldBeTrue();
        spec.After!.Text.ShouldBe("^# Authentication");
        spec.Before.ShouldBeNull();
        spec.Multiple.ShouldBeTrue();
        spec.Create.ShouldBeTrue();
        spec.Backup.ShouldBeFalse();
        spec.ShouldNotBeAssignableTo<IManagesPath>();
    }

    [Fact]
    public void Parse_Defaults_PresentBackupOnNoCreateNoMultiple()
    {
        var spec = ParseOk<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a")));
        spec.Ensure.ShouldBe(LineEnsure.Present);
        spec.Backup.ShouldBeTrue();
        spec.Create.ShouldBeFalse();
        spec.Multiple.ShouldBeFalse();
    }

    [Fact]
    public void Parse_SameSource_SpecsAreEqual()
    {
        LineSpec Make() => ParseOk<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("match", "^a")));
        Make().ShouldBe(Make());
    }

    [Fact]
    public void Parse_MissingPathAndText_ReportsBothAtResource()
    {
        var (spec, errors) = Parse<LineSpec>(_provider, Resource("line", "x"));
        spec.ShouldBeNull();
        errors.ShouldBe([
            "site.yaml:1:3: error CVG4002: line[x]: missing required property 'path'",
            "site.yaml:1:3: error CVG4002: line[x]: missing required property 'text' when ensure is present",
        ]);
    }

    [Fact]
    public void Parse_AbsentWithoutLineOrMatch_Reports()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("ensure", "absent")));
        errors.ShouldBe(["site.yaml:1:3: error CVG4002: line[x]: missing required property 'text' or 'match' when ensure is absent"]);
    }

    [Fact]
    public void Parse_AbsentWithMatchOnly_IsValid()
    {
        var spec = ParseOk<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("ensure", "absent"), ("match", "^foo")));
        spec.Text.ShouldBeNull();
        spec.Ensure.ShouldBe(LineEnsure.Absent);
    }

    [Fact]
    public void Parse_RelativePath_ReportsAtValue()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "etc/x"), ("text", "a")));
        errors.ShouldBe(["site.yaml:2:9: error CVG4009: line[x]: path must be an absolute, normalized path such as /etc/motd; got etc/x"]);
    }

    [Fact]
    public void Parse_BadMatch_ReportsCvg4014AtValue()
    {
        var (spec, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("match", Quoted("^(Permit"))));
        spec.ShouldBeNull();
        errors.ShouldBe(["site.yaml:4:10: error CVG4014: line[x]: match must be a valid .NET regular expression: Invalid pattern '^(Permit' at offset 8. Not enough )'s."]);
    }

    [Fact]
    public void Parse_BadAfterAndBefore_ReportsEachAtItsValue()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("insert_after", "[a"), ("insert_before", "*")));
        errors.ShouldBe([
            "site.yaml:4:17: error CVG4014: line[x]: insert_after must be a valid .NET regular expression: Invalid pattern '[a' at offset 2. Unterminated [] set.",
            "site.yaml:5:18: error CVG4010: line[x]: insert_after and insert_before cannot both be set; choose one",
            "site.yaml:5:18: error CVG4014: line[x]: insert_before must be a valid .NET regular expression: Invalid pattern '*' at offset 1. Quantifier '*' following nothing.",
        ]);
    }

    [Fact]
    public void Parse_SensitiveBadMatch_DoesNotQuotePattern()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("match", Plain("(secret", sensitive: true))));
        errors.ShouldBe(["site.yaml:4:10: error CVG4014: line[x]: match must be a valid .NET regular expression"]);
    }

    [Fact]
    public void Parse_LineWithNewline_ReportsCvg4015()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", Quoted("a\nb"))));
        errors.ShouldBe(["site.yaml:3:9: error CVG4015: line[x]: text must be a single line without line breaks; use one line resource per line, or a file resource for a block"]);
    }

    [Fact]
    public void Parse_EnsureTypo_Suggests()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("ensure", "presnt")));
        errors.ShouldBe(["site.yaml:4:11: error CVG4006: line[x]: ensure must be one of present, absent; got presnt; did you mean 'present'?"]);
    }

    [Fact]
    public void Parse_BadBools_ReportEach()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("match", "a"),
            ("multiple", "yes"), ("create", "1"), ("backup", "no")));
        errors.ShouldBe([
            "site.yaml:5:13: error CVG4005: line[x]: multiple must be true or false; got yes",
            "site.yaml:6:11: error CVG4005: line[x]: create must be true or false; got 1",
            "site.yaml:7:11: error CVG4005: line[x]: backup must be true or false; got no",
        ]);
    }

    [Fact]
    public void Parse_UnknownProperty_SuggestsName()
    {
        var (_, errors) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("regexp", "a")));
        errors.ShouldBe(["site.yaml:4:3: error CVG4001: line[x]: unknown property 'regexp' for type line"]);
    }

    [Fact]
    public void Parse_IneffectiveProperties_Warn()
    {
        var (spec, absent) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("ensure", "absent"),
            ("text", "a"), ("match", "^a"), ("insert_after", "b"), ("create", "true")));
        spec.ShouldNotBeNull();
        absent.ShouldBe([
            "site.yaml:4:3: warning CVG4013: line[x]: text has no effect when ensure is absent and match is set",
            "site.yaml:6:3: warning CVG4013: line[x]: insert_after has no effect when ensure is absent",
            "site.yaml:7:3: warning CVG4013: line[x]: create has no effect when ensure is absent",
        ]);
        var (_, present) = Parse<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/x"), ("text", "a"), ("multiple", "true")));
        present.ShouldBe(["site.yaml:4:3: warning CVG4013: line[x]: multiple has no effect when match is not set"]);
    }

    [Fact]
    public void AutoRequires_FileThenNearestDirectory()
    {
        var spec = ParseOk<LineSpec>(_provider, Resource("line", "x", ("path", "/etc/ssh/sshd_config"), ("text", "a")));
        var requires = _provider.AutoRequires(spec).Select(r => string.Join(" | ", r.FirstOf)).ToList();
        requires.ShouldBe(["file[/etc/ssh/sshd_config]", "directory[/etc/ssh] | directory[/etc] | directory[/]"]);
    }
}
