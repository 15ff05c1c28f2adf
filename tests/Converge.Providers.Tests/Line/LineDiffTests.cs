using System.Text;
using Converge.Providers.Line;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Line;

/// <summary>Pure: spec and file content in, the planned change (and the file it leads to) out.</summary>
public class LineDiffTests
{
    private const string Path = "/etc/ssh/sshd_config";
    private static readonly LineProvider Provider = new();

    private static LineSpec Spec(params (string, object)[] properties) =>
        ParseOk<LineSpec>(Provider, Resource("line", "x", [("path", Path), .. properties]));

    private static LineActual Existing(string content) => new()
    {
        Status = new FileStatus(FileKind.File, new UnixMode(0x1A4), 0, 0, content.Length, null),
        Content = Encoding.UTF8.GetBytes(content),
    };

    private static readonly LineActual Missing = new();

    /// <summary>The file after the planned edit (what Apply will write).</summary>
    private static string After(LineSpec spec, string content)
    {
        var text = LineText.TryParse(Encoding.UTF8.GetBytes(content))!;
        LineEdit.Apply(spec, text);
        return Encoding.UTF8.GetString(text.ToBytes());
    }

    [Fact]
    public void Diff_LineMissing_AppendsWithWholeFileDiffAndBackup()
    {
        var old = "Port 22\n";
        var change = Provider.Diff(Spec(("text", Quoted("UseDNS no"))), Existing(old)).Single();
        change.Property.ShouldBe("text");
        change.From.ShouldBeNull();
        change.To.ShouldBe("UseDNS no");
        change.Backup.ShouldBe(ContentText.Sha256(Encoding.UTF8.GetBytes(old)));
        change.UnifiedDiff.ShouldBe($"--- {Path}\n+++ {Path}\n@@ -1 +1,2 @@\n Port 22\n+UseDNS no\n");
    }

    [Fact]
    public void Diff_LinePresent_IsEmpty()
    {
        Provider.Diff(Spec(("text", Quoted("UseDNS no"))), Existing("Port 22\nUseDNS no\n")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_MatchOneLine_ReplacesIt()
    {
        var spec = Spec(("text", Quoted("PermitRootLogin no")), ("match", Quoted("^#?PermitRootLogin")));
        var old = "Port 22\n#PermitRootLogin yes\nUseDNS no\n";
        var change = Provider.Diff(spec, Existing(old)).Single();
        ConvergenceKit.Show(change).ShouldBe(
            $"text: #PermitRootLogin yes -> PermitRootLogin no backup={ContentText.Sha256(Encoding.UTF8.GetBytes(old))}\n"
            + $"--- {Path}\n+++ {Path}\n@@ -1,3 +1,3 @@\n Port 22\n-#PermitRootLogin yes\n+PermitRootLogin no\n UseDNS no\n");
        After(spec, old).ShouldBe("Port 22\nPermitRootLogin no\nUseDNS no\n");
    }

    [Fact]
    public void Diff_MatchAlreadyEqualsLine_IsEmpty()
    {
        var spec = Spec(("text", Quoted("PermitRootLogin no")), ("match", Quoted("^#?PermitRootLogin")));
        Provider.Diff(spec, Existing("PermitRootLogin no\n")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_MatchNothing_InsertsLine()
    {
        var spec = Spec(("text", Quoted("PermitRootLogin no")), ("match", Quoted("^#?PermitRootLogin")));
        After(spec, "Port 22\n").ShouldBe("Port 22\nPermitRootLogin no\n");
    }

    [Fact]
    public void Diff_ReplacementNotMatchingItsPattern_StaysConverged()
    {
        var spec = Spec(("text", Quoted("Port 2222")), ("match", Quoted("^Port 22$")));
        var once = After(spec, "Port 22\n");
        once.ShouldBe("Port 2222\n");
        Provider.Diff(spec, Existing(once)).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_SeveralMatchesWithoutMultiple_FailsNamingLineNumbers()
    {
        var spec = Spec(("text", Quoted("PermitRootLogin no")), ("match", Quoted("^#?PermitRootLogin")));
        var e = Should.Throw<ProviderException>(() => Provider.Diff(spec, Existing("#PermitRootLogin yes\nPort 22\nPermitRootLogin yes\n")));
        e.Message.ShouldBe($"2 lines of {Path} match /^#?PermitRootLogin/ (lines 1, 3); set multiple: true to replace them all, or make match more specific");
    }

    [Fact]
    public void Diff_SeveralMatchesWithMultiple_ReplacesEveryDifferingLine()
    {
        var spec = Spec(("text", Quoted("PermitRootLogin no")), ("match", Quoted("^#?PermitRootLogin")), ("multiple", "true"));
        var old = "#PermitRootLogin yes\nPermitRootLogin no\nPermitRootLogin yes\n";
        var change = Provider.Diff(spec, Existing(old)).Single();
        change.From.ShouldBe("2 lines matching /^#?PermitRootLogin/");
        After(spec, old).ShouldBe("PermitRootLogin no\nPermitRootLogin no\nPermitRootLogin no\n");
    }

    [Fact]
    public void Diff_After_InsertsAfterLastAnchor()
    {
        var spec = Spec(("text", "c"), ("insert_after", Quoted("^a")));
        After(spec, "a1\nb\na2\nd\n").ShouldBe("a1\nb\na2\nc\nd\n");
    }

    [Fact]
    public void Diff_Before_InsertsBeforeFirstAnchor()
    {
        var spec = Spec(("text", "c"), ("insert_before", Quoted("^d")));
        After(spec, "a\nd1\nd2\n").ShouldBe("a\nc\nd1\nd2\n");
    }

    [Fact]
    public void Diff_AnchorNotFound_AppendsAtEnd()
    {
        After(Spec(("text", "c"), ("insert_after", "zzz")), "a\nb\n").ShouldBe("a\nb\nc\n");
        After(Spec(("text", "c"), ("insert_before", "zzz")), "a\nb\n").ShouldBe("a\nb\nc\n");
    }

    [Fact]
    public void Diff_AbsentExactLine_RemovesEveryCopy()
    {
        var spec = Spec(("ensure", "absent"), ("text", "x"));
        var change = Provider.Diff(spec, Existing("x\na\nx\n")).Single();
        change.From.ShouldBe("2 lines");
        change.To.ShouldBe("absent");
        After(spec, "x\na\nx\n").ShouldBe("a\n");
    }

    [Fact]
    public void Diff_AbsentMatch_RemovesEveryMatchingLine()
    {
        var spec = Spec(("ensure", "absent"), ("match", Quoted("^X11")));
        var change = Provider.Diff(spec, Existing("Port 22\nX11Forwarding yes\n")).Single();
        ConvergenceKit.Show(change).ShouldEndWith($"--- {Path}\n+++ {Path}\n@@ -1,2 +1 @@\n Port 22\n-X11Forwarding yes\n");
        change.From.ShouldBe("X11Forwarding yes");
    }

    [Fact]
    public void Diff_AbsentAndNoFile_IsEmpty()
    {
        Provider.Diff(Spec(("ensure", "absent"), ("text", "x")), Missing).ShouldBeEmpty();
        Provider.Diff(Spec(("ensure", "absent"), ("text", "x")), Existing("a\n")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_NoFileWithoutCreate_Fails()
    {
        var e = Should.Throw<ProviderException>(() => Provider.Diff(Spec(("text", "x")), Missing));
        e.Message.ShouldBe($"{Path} does not exist; a line resource edits an existing file — add create: true to create it with the line, or manage the file");
    }

    [Fact]
    public void Diff_NoFileWithCreate_PlansNewFileFromDevNull()
    {
        var change = Provider.Diff(Spec(("text", "x"), ("create", "true")), Missing).Single();
        ConvergenceKit.Show(change).ShouldBe($"text: null -> x\n--- /dev/null\n+++ {Path}\n@@ -0,0 +1 @@\n+x\n");
    }

    [Fact]
    public void Diff_Symlink_FailsWithoutFollowing()
    {
        var link = new LineActual { Status = new FileStatus(FileKind.Symlink, new UnixMode(0x1FF), 0, 0, 0, "/elsewhere") };
        Should.Throw<ProviderException>(() => Provider.Diff(Spec(("text", "x")), link))
            .Message.ShouldBe($"{Path} is a symlink; a line resource edits regular files only — give the path of the file it points to");
    }

    [Fact]
    public void Diff_BinaryFile_Fails()
    {
        var binary = Existing("a\n") with { Content = [0x61, 0x00, 0x0A] };
        Should.Throw<ProviderException>(() => Provider.Diff(Spec(("text", "x")), binary))
            .Message.ShouldBe($"{Path} is not UTF-8 text (it has invalid bytes or a NUL); a line resource edits text files only");
    }

    [Fact]
    public void Diff_CrlfFile_KeepsCrlf()
    {
        After(Spec(("text", "c"), ("match", "^b")), "a\r\nb\r\n").ShouldBe("a\r\nc\r\n");
        After(Spec(("text", "c")), "a\r\nb\r\n").ShouldBe("a\r\nb\r\nc\r\n");
    }

    [Fact]
    public void Diff_NoFinalNewline_KeepsItThatWay()
    {
        After(Spec(("text", "c")), "a\nb").ShouldBe("a\nb\nc");
        After(Spec(("ensure", "absent"), ("text", "b")), "a\nb").ShouldBe("a");
        After(Spec(("text", "c")), "").ShouldBe("c\n");
    }

    [Fact]
    public void Diff_ByteOrderMark_KeptAndInvisibleToPatterns()
    {
        After(Spec(("text", "c"), ("match", "^a$")), "\uFEFFa\nb\n").ShouldBe("\uFEFFc\nb\n");
    }

    [Fact]
    public void Diff_SensitiveMatch_RedactsValuesAndDiff()
    {
        var spec = Spec(("text", "token=new"), ("match", Plain("^token=", sensitive: true)));
        var change = Provider.Diff(spec, Existing("token=old\n")).Single();
        change.From.ShouldBe("(redacted)");
        change.To.ShouldBe("(redacted)");
        change.UnifiedDiff.ShouldBeNull();
        change.Backup.ShouldNotBeNull();
    }

    [Fact]
    public void Diff_SensitiveText_ChangeIsNamedTextSoTheEngineRedactsIt()
    {
        var spec = Spec(("text", Plain("token=s3cret", sensitive: true)));
        spec.IsSensitive("text").ShouldBeTrue();
        Provider.Diff(spec, Existing("a\n")).Single().Property.ShouldBe("text");
    }
}
