using System.Text;
using Converge.Providers.File;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.File;

public class FileParseTests
{
    private readonly FileProvider _provider = new();

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<FileSpec>(_provider, Resource("file", "/etc/motd",
            ("ensure", "present"), ("content", Quoted("hi\n")), ("mode", "644"), ("owner", "root"), ("group", "0"),
            ("validate", Quoted("grep -q hi %")), ("backup", "false")));
        spec.Path.ShouldBe("/etc/motd");
        spec.Ensure.ShouldBe(FileEnsure.File);
        Encoding.UTF8.GetString(spec.Content!).ShouldBe("hi\n");
        spec.Ownership.ShouldBe(new OwnershipSpec(new UnixMode(0x1A4), new Principal("root"), new Principal("0")));
        spec.Validate!.Command.Argv.ShouldBe(["/bin/sh", "-c", "grep -q hi %"]);
        spec.Backup.ShouldBeFalse();
        ((IManagesPath)spec).Path.ShouldBe("/etc/motd");
    }

    [Fact]
    public void Parse_Defaults_EnsureFileBackupOn()
    {
        var spec = ParseOk<FileSpec>(_provider, Resource("file", "/etc/motd"));
        spec.Ensure.ShouldBe(FileEnsure.File);
        spec.Backup.ShouldBeTrue();
        spec.ManagesContent.ShouldBeFalse();
    }

    [Fact]
    public void Parse_ContentAndSource_Conflict()
    {
        var (spec, errors) = Parse<FileSpec>(_provider, Resource("file", "/etc/motd", ("content", "x"), ("source", "/srv/motd")));
        spec.ShouldBeNull();
        errors.ShouldBe(["site.yaml:3:11: error CVG4010: file[/etc/motd]: content and source cannot both be set; choose one"]);
    }

    [Fact]
    public void Parse_RelativeTitle_ReportsAtTitle()
    {
        var (_, errors) = Parse<FileSpec>(_provider, Resource("file", "motd"));
        errors.ShouldBe(["site.yaml:1:9: error CVG4009: file[motd]: title must be an absolute, normalized path such as /etc/motd; got motd"]);
    }

    [Fact]
    public void Parse_EnsureTypo_SuggestsFile()
    {
        var (_, errors) = Parse<FileSpec>(_provider, Resource("file", "/etc/motd", ("ensure", "fiel")));
        errors.ShouldBe(["site.yaml:2:11: error CVG4006: file[/etc/motd]: ensure must be one of file, present, absent; got fiel; did you mean 'file'?"]);
    }

    [Fact]
    public void Parse_ValidateWithoutPlaceholder_Reports()
    {
        var (_, errors) = Parse<FileSpec>(_provider, Resource("file", "/etc/nginx.conf", ("validate", "nginx -t")));
        errors.ShouldBe(["site.yaml:2:13: error CVG4011: file[/etc/nginx.conf]: validate must contain % where the path of the file to check goes, e.g. \"nginx -t -c %\""]);
    }

    [Fact]
    public void Parse_ValidateArgv_PlaceholderItem()
    {
        var spec = ParseOk<FileSpec>(_provider, Resource("file", "/etc/x", ("validate", List(Plain("/usr/bin/test"), Plain("-s"), Plain("%")))));
        spec.Validate!.ArgvFor("/etc/.x.tmp").ShouldBe(["/usr/bin/test", "-s", "/etc/.x.tmp"]);
    }

    [Fact]
    public void ValidateCommand_Shell_QuotesEveryPlaceholder()
    {
        var validate = new ValidateCommand(CommandLine.FromShell("check % && cat %"));
        validate.ArgvFor("/etc/my file").ShouldBe(["/bin/sh", "-c", "check '/etc/my file' && cat '/etc/my file'"]);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsAllAtOnce()
    {
        var (spec, errors) = Parse<FileSpec>(_provider, Resource("file", "/etc/motd",
            ("mode", "rw"), ("owner", "bad name"), ("backup", "yes"), ("contnet", "x")));
        spec.ShouldBeNull();
        errors.ShouldBe([
            "site.yaml:2:9: error CVG4004: file[/etc/motd]: mode must be an octal string such as \"0644\"; got rw",
            "site.yaml:3:10: error CVG4012: file[/etc/motd]: owner must be a user or group name or a numeric id; got bad name",
            "site.yaml:4:11: error CVG4005: file[/etc/motd]: backup must be true or false; got yes",
            "site.yaml:5:3: error CVG4001: file[/etc/motd]: unknown property 'contnet' for type file; did you mean 'content'?",
        ]);
    }

    [Fact]
    public void Parse_ContentWithEnsureAbsent_WarnsButParses()
    {
        var (spec, diagnostics) = Parse<FileSpec>(_provider, Resource("file", "/etc/motd", ("ensure", "absent"), ("content", "x")));
        spec.ShouldNotBeNull();
        diagnostics.ShouldBe(["site.yaml:3:3: warning CVG4013: file[/etc/motd]: content has no effect when ensure is absent"]);
    }

    [Fact]
    public void Parse_SensitiveContent_IsListed()
    {
        var spec = ParseOk<FileSpec>(_provider, Resource("file", "/etc/secret", ("content", Plain("pw", sensitive: true))));
        spec.IsSensitive("content").ShouldBeTrue();
        spec.IsSensitive("mode").ShouldBeFalse();
    }

    [Fact]
    public void AutoRequires_AncestorsClosestFirst_AndNamedPrincipals()
    {
        var spec = ParseOk<FileSpec>(_provider, Resource("file", "/etc/nginx/nginx.conf", ("owner", "www-data"), ("group", "33")));
        var requires = _provider.AutoRequires(spec).ToList();
        requires.Count.ShouldBe(2);
        requires[0].FirstOf.Select(id => id.ToString()).ShouldBe(["directory[/etc/nginx]", "directory[/etc]", "directory[/]"]);
        requires[1].FirstOf.Single().ToString().ShouldBe("user[www-data]");
    }
}
