using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Common;

public class SpecReaderTests
{
    private static readonly string[] Names = ["ensure", "mode", "owner", "flag", "command", "returns", "environment", "timeout", "creates", "text"];

    private static (SpecReader Reader, Func<IReadOnlyList<string>> Errors) Read(params (string, object)[] properties) =>
        Read(false, properties);

    private static (SpecReader Reader, Func<IReadOnlyList<string>> Errors) Read(bool sensitive, params (string, object)[] properties)
    {
        var bag = new DiagnosticBag();
        var reader = new SpecReader(Resource("file", "/etc/motd", sensitive, properties), Names, bag);
        return (reader, () => bag.Sorted().Select(d => d.ToString()).ToList());
    }

    [Fact]
    public void New_UnknownProperty_ReportsAtKeyWithDidYouMean()
    {
        var (reader, errors) = Read(("ensure", "file"), ("mdoe", "0644"));
        reader.HasErrors.ShouldBeTrue();
        errors().ShouldBe(["site.yaml:3:3: error CVG4001: file[/etc/motd]: unknown property 'mdoe' for type file; did you mean 'mode'?"]);
    }

    [Fact]
    public void New_UnknownPropertyFarFromAny_ReportsWithoutSuggestion()
    {
        var (_, errors) = Read(("colour", "red"));
        errors().ShouldBe(["site.yaml:2:3: error CVG4001: file[/etc/motd]: unknown property 'colour' for type file"]);
    }

    [Fact]
    public void Require_Missing_ReportsAtResource()
    {
        var (reader, errors) = Read();
        reader.Require("command", "unless ensure is absent");
        errors().ShouldBe(["site.yaml:1:3: error CVG4002: file[/etc/motd]: missing required property 'command' unless ensure is absent"]);
    }

    [Fact]
    public void Require_YamlNull_CountsAsMissing()
    {
        var (reader, errors) = Read(("command", "~"));
        reader.Has("command").ShouldBeFalse();
        reader.Require("command");
        errors().ShouldBe(["site.yaml:1:3: error CVG4002: file[/etc/motd]: missing required property 'command'"]);
    }

    [Fact]
    public void String_GivenList_ReportsWrongKind()
    {
        var (reader, errors) = Read(("text", List(Plain("a"))));
        reader.String("text").ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:9: error CVG4003: file[/etc/motd]: text must be a string; got a list"]);
    }

    [Theory]
    [InlineData("0644", false, 0x1A4)]
    [InlineData("0644", true, 0x1A4)]
    [InlineData("644", false, 0x1A4)]
    [InlineData("600", true, 0x180)]
    [InlineData("2775", false, 0x5FD)]
    [InlineData("02775", true, 0x5FD)]
    [InlineData("0000", false, 0)]
    [InlineData("00644", false, 0x1A4)]
    public void Mode_OctalDigits_Parse(string text, bool quoted, int bits)
    {
        var (reader, errors) = Read(("mode", quoted ? Quoted(text) : Plain(text)));
        reader.Mode("mode").ShouldBe(new UnixMode(bits));
        errors().ShouldBeEmpty();
    }

    [Theory]
    [InlineData("0o644", false, "0o644")]
    [InlineData("648", false, "648")]
    [InlineData("64", false, "64")]
    [InlineData("12345", false, "12345")]
    [InlineData("rw-r--r--", true, "\"rw-r--r--\"")]
    [InlineData("u=rw", false, "u=rw")]
    public void Mode_NotOctalDigits_ReportsWithValue(string text, bool quoted, string shown)
    {
        var (reader, errors) = Read(("mode", quoted ? Quoted(text) : Plain(text)));
        reader.Mode("mode").ShouldBeNull();
        errors().ShouldBe([$"site.yaml:2:9: error CVG4004: file[/etc/motd]: mode must be an octal string such as \"0644\"; got {shown}"]);
    }

    [Fact]
    public void Mode_SensitiveValue_IsRedactedInMessage()
    {
        var bag = new DiagnosticBag();
        new SpecReader(Resource("file", "/etc/motd", ("mode", Plain("hunter2", sensitive: true))), Names, bag).Mode("mode");
        bag.Sorted().Single().Message.ShouldBe("mode must be an octal string such as \"0644\"; got (redacted)");
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void Bool_TrueFalse_Parse(string text, bool expected)
    {
        var (reader, _) = Read(("flag", Plain(text)));
        reader.Bool("flag").ShouldBe(expected);
        reader.HasErrors.ShouldBeFalse();
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("True")]
    [InlineData("1")]
    public void Bool_Other_Reports(string text)
    {
        var (reader, errors) = Read(("flag", Plain(text)));
        reader.Bool("flag").ShouldBeNull();
        errors().ShouldBe([$"site.yaml:2:9: error CVG4005: file[/etc/motd]: flag must be true or false; got {text}"]);
    }

    [Fact]
    public void Choice_Typo_ReportsChoicesAndDidYouMean()
    {
        var (reader, errors) = Read(("ensure", "presnt"));
        reader.Choice<int>("ensure", [new("file", 1), new("present", 1), new("absent", 2)]).ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:11: error CVG4006: file[/etc/motd]: ensure must be one of file, present, absent; got presnt; did you mean 'present'?"]);
    }

    [Fact]
    public void Choice_Sensitive_NeitherQuotesNorSuggests()
    {
        var (reader, errors) = Read(sensitive: true, ("ensure", "presnt"));
        reader.Choice<int>("ensure", [new("present", 1)]);
        errors().ShouldBe(["site.yaml:2:11: error CVG4006: file[/etc/motd]: ensure must be one of present; got (redacted)"]);
    }

    [Fact]
    public void Command_String_RunsThroughShell()
    {
        var (reader, _) = Read(("command", Plain("echo hi > /tmp/x")));
        var command = reader.Command("command").ShouldNotBeNull();
        command.Argv.ShouldBe(["/bin/sh", "-c", "echo hi > /tmp/x"]);
        command.Display.ShouldBe("echo hi > /tmp/x");
        command.IsShell.ShouldBeTrue();
    }

    [Fact]
    public void Command_List_IsArgvAsIs()
    {
        var (reader, _) = Read(("command", List(Plain("/usr/bin/printf"), Quoted("a b"), Plain("it's"))));
        var command = reader.Command("command").ShouldNotBeNull();
        command.Argv.ShouldBe(["/usr/bin/printf", "a b", "it's"]);
        command.Display.ShouldBe("/usr/bin/printf 'a b' 'it'\\''s'");
        command.IsShell.ShouldBeFalse();
    }

    [Fact]
    public void Command_EmptyList_Reports()
    {
        var (reader, errors) = Read(("command", List()));
        reader.Command("command").ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:12: error CVG4011: file[/etc/motd]: command must not be empty; give the program first, then its arguments"]);
    }

    [Fact]
    public void Command_BlankString_Reports()
    {
        var (reader, errs) = Read(("command", Quoted("  ")));
        reader.Command("command");
        errs().ShouldBe(["site.yaml:2:12: error CVG4011: file[/etc/motd]: command must not be empty"]);
    }

    [Fact]
    public void Command_ListWithMap_ReportsItem()
    {
        var (reader, errors) = Read(("command", List(Plain("ls"), Map(("a", Plain("b"))))));
        reader.Command("command").ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:17: error CVG4003: file[/etc/motd]: each item of command must be a string; got a map"]);
    }

    [Fact]
    public void Command_Map_ReportsWrongKind()
    {
        var (reader, errors) = Read(("command", Map(("a", Plain("b")))));
        reader.Command("command").ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:12: error CVG4003: file[/etc/motd]: command must be a string or a list of strings; got a map"]);
    }

    [Fact]
    public void IntList_SingleAndList_Parse()
    {
        Read(("returns", "2")).Reader.IntList("returns").ShouldBe([2]);
        Read(("returns", List(Plain("0"), Plain("1")))).Reader.IntList("returns").ShouldBe([0, 1]);
    }

    [Fact]
    public void IntList_NonInteger_ReportsAtItem()
    {
        var (reader, errors) = Read(("returns", List(Plain("0"), Plain("ok"))));
        reader.IntList("returns").ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:16: error CVG4007: file[/etc/motd]: returns must be an integer; got ok"]);
    }

    [Fact]
    public void StringMap_Strings_Parse()
    {
        var (reader, _) = Read(("environment", Map(("LANG", Plain("C")), ("EMPTY", Plain("~")))));
        reader.StringMap("environment").ShouldBe(new Dictionary<string, string> { ["LANG"] = "C", ["EMPTY"] = "" });
    }

    [Fact]
    public void StringMap_NestedList_Reports()
    {
        var (reader, errors) = Read(("environment", Map(("PATH", List(Plain("/bin"))))));
        reader.StringMap("environment").ShouldBeNull();
        errors().ShouldBe(["site.yaml:2:23: error CVG4003: file[/etc/motd]: environment.PATH must be a string; got a list"]);
    }

    [Fact]
    public void StringMap_Scalar_ReportsWrongKind()
    {
        var (reader, errs) = Read(("environment", "LANG=C"));
        reader.StringMap("environment");
        errs().ShouldBe(["site.yaml:2:16: error CVG4003: file[/etc/motd]: environment must be a map of names to strings; got a string"]);
    }

    [Theory]
    [InlineData("30", 30)]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    public void Duration_Forms_Parse(string text, int seconds)
    {
        var (reader, _) = Read(("timeout", text));
        reader.Duration("timeout").ShouldBe(TimeSpan.FromSeconds(seconds));
        reader.HasErrors.ShouldBeFalse();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.5m")]
    [InlineData("2d")]
    [InlineData("m")]
    public void Duration_Invalid_Reports(string text)
    {
        var (reader, errors) = Read(("timeout", text));
        reader.Duration("timeout").ShouldBeNull();
        errors().ShouldBe([$"site.yaml:2:12: error CVG4008: file[/etc/motd]: timeout must be a positive duration such as 30, 30s, 5m or 1h; got {text}"]);
    }

    [Theory]
    [InlineData("tmp/x", "")]
    [InlineData("/tmp/x/", "; write /tmp/x")]
    [InlineData("/tmp//x", "; write /tmp/x")]
    [InlineData("/tmp/../etc/x", "; write /etc/x")]
    [InlineData("/tmp/./x", "; write /tmp/x")]
    public void AbsolutePath_NotNormalized_ReportsWithSuggestion(string text, string hint)
    {
        var (reader, errors) = Read(("creates", text));
        reader.AbsolutePath("creates").ShouldBeNull();
        errors().ShouldBe([$"site.yaml:2:12: error CVG4009: file[/etc/motd]: creates must be an absolute, normalized path such as /etc/motd; got {text}{hint}"]);
    }

    [Fact]
    public void TitlePath_Relative_ReportsAtTitle()
    {
        var bag = new DiagnosticBag();
        new SpecReader(Resource("file", "etc/motd"), Names, bag).TitlePath().ShouldBeNull();
        bag.Sorted().Single().ToString().ShouldBe(
            "site.yaml:1:9: error CVG4009: file[etc/motd]: title must be an absolute, normalized path such as /etc/motd; got etc/motd");
    }

    [Fact]
    public void SensitiveProperties_CollectsSensitiveValues()
    {
        var (reader, _) = Read(("text", Plain("s3cret", sensitive: true)), ("mode", "0600"));
        reader.SensitiveProperties.ShouldBe(["text"]);
    }

    [Fact]
    public void SensitiveProperties_SecretListItem_MakesPropertySensitive()
    {
        var (reader, _) = Read(("command", List(Plain("mysql"), Plain("-pS3cret", sensitive: true))), ("environment", Map(("A", Plain("b")))));
        reader.SensitiveProperties.ShouldBe(["command"]);
    }

    [Fact]
    public void IntList_SensitiveItem_IsRedacted()
    {
        var (reader, errors) = Read(("returns", List(Plain("x", sensitive: true))));
        reader.IntList("returns");
        errors().ShouldBe(["site.yaml:2:13: error CVG4007: file[/etc/motd]: returns must be an integer; got (redacted)"]);
    }

    [Fact]
    public void HasErrors_OtherResourcesErrors_DoNotCount()
    {
        var bag = new DiagnosticBag();
        bag.Error("CVG9999", SourceSpan.None, "someone else's problem");
        var reader = new SpecReader(Resource("file", "/etc/motd", ("mode", "0644")), Names, bag);
        reader.Mode("mode");
        reader.HasErrors.ShouldBeFalse();
    }

    [Fact]
    public void Conflict_BothSet_ReportsAtSecond()
    {
        var (reader, errors) = Read(("text", "a"), ("command", "b"));
        reader.Conflict("text", "command");
        errors().ShouldBe(["site.yaml:3:12: error CVG4010: file[/etc/motd]: text and command cannot both be set; choose one"]);
    }
}
