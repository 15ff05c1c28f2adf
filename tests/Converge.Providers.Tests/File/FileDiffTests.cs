using System.Text;
using Converge.Providers.File;

namespace Converge.Providers.Tests.File;

public class FileDiffTests
{
    private static readonly FileProvider Provider = new();
    private static readonly ResourceId Id = new("file", "/etc/motd");

    private static FileSpec Spec(string? content = null) => new()
    {
        Id = Id,
        Path = "/etc/motd",
        Content = content is null ? null : Encoding.UTF8.GetBytes(content),
    };

    private static FileStatus Regular(int mode = 0x1A4, int uid = 0, int gid = 0) => new(FileKind.File, new UnixMode(mode), uid, gid, 0, null);

    private static FileActual Actual(FileStatus? status, string? content, string? desired) => new()
    {
        Status = status,
        Content = content is null ? null : Encoding.UTF8.GetBytes(content),
        DesiredContent = desired is null ? null : Encoding.UTF8.GetBytes(desired),
    };

    [Fact]
    public void Diff_ContentDiffers_ShowsChecksumsUnifiedDiffAndBackup()
    {
        var old = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
        var @new = "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\n";
        var change = Provider.Diff(Spec(@new), Actual(Regular(), old, @new)).Single();
        change.Property.ShouldBe("content");
        change.From.ShouldBe("{sha256}" + ContentText.Sha256(Encoding.UTF8.GetBytes(old)));
        change.To.ShouldBe("{sha256}" + ContentText.Sha256(Encoding.UTF8.GetBytes(@new)));
        change.Backup.ShouldBe(ContentText.Sha256(Encoding.UTF8.GetBytes(old)));
        change.UnifiedDiff.ShouldBe(
            "--- /etc/motd\n+++ /etc/motd\n@@ -1,7 +1,7 @@\n one\n two\n three\n-four\n+FOUR\n five\n six\n seven\n");
    }

    [Fact]
    public void Diff_ContentSame_IsEmpty()
    {
        Provider.Diff(Spec("x\n"), Actual(Regular(), "x\n", "x\n")).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_Missing_PlansEnsureAndContentFromDevNull()
    {
        var changes = Provider.Diff(Spec("hello\n") with { Ownership = new OwnershipSpec(new UnixMode(0x180), null, null) },
            Actual(null, null, "hello\n"));
        ConvergenceKit.Show(changes).ShouldBe([
            "ensure: absent -> file",
            $"content: null -> {ContentText.Checksum("hello\n"u8)}\n--- /dev/null\n+++ /etc/motd\n@@ -0,0 +1 @@\n+hello\n",
            "mode: null -> 0600",
        ]);
    }

    [Fact]
    public void Diff_Binary_SaysBinaryFilesDiffer()
    {
        var actual = new FileActual { Status = Regular(), Content = [0, 1, 2], DesiredContent = [0, 1, 3] };
        Provider.Diff(Spec() with { Content = [0, 1, 3] }, actual).Single().UnifiedDiff.ShouldBe("Binary files differ");
    }

    [Fact]
    public void Diff_SensitiveContent_RedactsValuesAndOmitsDiff()
    {
        var spec = Spec("new secret") with { SensitiveProperties = new HashSet<string> { "content" } };
        var change = Provider.Diff(spec, Actual(Regular(), "old secret", "new secret")).Single();
        (change.From, change.To, change.UnifiedDiff).ShouldBe(("(redacted)", "(redacted)", null));
    }

    [Fact]
    public void Diff_BackupOff_NoBackupHash()
    {
        var change = Provider.Diff(Spec("b") with { Backup = false }, Actual(Regular(), "a", "b")).Single();
        change.Backup.ShouldBeNull();
    }

    [Fact]
    public void Diff_ModeDiffers_PlansModeOnly()
    {
        var spec = Spec() with { Ownership = new OwnershipSpec(new UnixMode(0x180), null, null) };
        ConvergenceKit.Show(Provider.Diff(spec, Actual(Regular(0x1A4), null, null))).ShouldBe(["mode: 0644 -> 0600"]);
    }

    [Fact]
    public void Diff_OwnerByName_ComparesResolvedIds()
    {
        var spec = Spec() with { Ownership = new OwnershipSpec(null, new Principal("nobody"), new Principal("nogroup")) };
        var differs = new FileActual { Status = Regular(uid: 0, gid: 0), Ownership = new OwnershipActual(65534, 65534, "root", "root") };
        ConvergenceKit.Show(Provider.Diff(spec, differs)).ShouldBe(["owner: root -> nobody", "group: root -> nogroup"]);
        var same = new FileActual { Status = Regular(uid: 65534, gid: 65534), Ownership = new OwnershipActual(65534, 65534, "nobody", "nogroup") };
        Provider.Diff(spec, same).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_OwnerNotYetExisting_Differs()
    {
        var spec = Spec() with { Ownership = new OwnershipSpec(null, new Principal("deploy"), null) };
        var actual = new FileActual { Status = Regular(), Ownership = new OwnershipActual(null, null, "root", "root") };
        ConvergenceKit.Show(Provider.Diff(spec, actual)).ShouldBe(["owner: root -> deploy"]);
    }

    [Fact]
    public void Diff_DirectoryAtPath_PlansEnsureOnly()
    {
        var actual = new FileActual { Status = new FileStatus(FileKind.Directory, new UnixMode(0x1ED), 0, 0, 0, null), DesiredContent = "x"u8.ToArray() };
        ConvergenceKit.Show(Provider.Diff(Spec("x"), actual)).ShouldBe(["ensure: directory -> file"]);
    }

    [Fact]
    public void Diff_SymlinkAtPath_PlansReplacement()
    {
        var actual = new FileActual { Status = new FileStatus(FileKind.Symlink, new UnixMode(0x1FF), 0, 0, 0, "/x"), DesiredContent = "x"u8.ToArray() };
        var changes = ConvergenceKit.Show(Provider.Diff(Spec("x"), actual));
        changes[0].ShouldBe("ensure: link -> file");
        changes[1].ShouldStartWith("content: null -> {sha256}");
    }

    [Fact]
    public void Diff_AbsentWanted_FileThere_PlansRemovalWithBackup()
    {
        var spec = Spec() with { Ensure = FileEnsure.Absent };
        ConvergenceKit.Show(Provider.Diff(spec, Actual(Regular(), "old", null)))
            .ShouldBe([$"ensure: file -> absent backup={ContentText.Sha256("old"u8)}"]);
        Provider.Diff(spec, Actual(null, null, null)).ShouldBeEmpty();
    }
}
