using System.Text;
using Converge.Providers.File;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.File;

/// <summary>The file provider against real files (LocalSystem) in a fresh temp directory per test.</summary>
public sealed class FileConvergenceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TempDirectory _bucketDir = new();
    private readonly FileProvider _provider = new();
    private readonly ConvergenceKit _kit;

    public FileConvergenceTests() => _kit = new ConvergenceKit(_provider, _bucketDir.Path);

    public void Dispose()
    {
        _dir.Dispose();
        _bucketDir.Dispose();
    }

    private FileSpec Spec(string name, params (string, object)[] properties) =>
        ParseOk<FileSpec>(_provider, Resource("file", _dir[name], properties));

    private static UnixMode ModeOf(string path) => new((int)IOFile.GetUnixFileMode(path));

    [Fact]
    public async Task Converge_NewFileWithContentAndMode_CreatesItThenStaysConverged()
    {
        var path = _dir["motd"];
        var spec = Spec("motd", ("content", Quoted("hello\n")), ("mode", "0600"));

        var applied = await _kit.ConvergeAsync(spec);

        ConvergenceKit.Show(applied).ShouldBe([
            "ensure: absent -> file",
            $"content: null -> {ContentText.Checksum("hello\n"u8)}\n--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+hello\n",
            "mode: null -> 0600",
        ]);
        IOFile.ReadAllText(path).ShouldBe("hello\n");
        ModeOf(path).ShouldBe(new UnixMode(0x180));
    }

    [Fact]
    public async Task Drift_ContentEditedBehindOurBack_ShowsUpWithDiffAndBackup()
    {
        var path = _dir["app.conf"];
        var spec = Spec("app.conf", ("content", Quoted("a = 1\n")));
        await _kit.ConvergeAsync(spec);

        await IOFile.WriteAllTextAsync(path, "a = 2\n");
        var drift = (await _kit.PlanAsync(spec)).Single();

        drift.Property.ShouldBe("content");
        drift.UnifiedDiff.ShouldBe($"--- {path}\n+++ {path}\n@@ -1 +1 @@\n-a = 2\n+a = 1\n");
        drift.Backup.ShouldBe(ContentText.Sha256("a = 2\n"u8));
        await _kit.ConvergeAsync(spec);
        IOFile.ReadAllText(path).ShouldBe("a = 1\n");
    }

    [Fact]
    public async Task Apply_ReplacingContent_StoresOldBytesInBucketUnderPlannedHash()
    {
        var path = _dir["data"];
        await IOFile.WriteAllTextAsync(path, "old content\n");
        var spec = Spec("data", ("content", "new content"));

        var change = (await _kit.ConvergeAsync(spec)).Single();

        change.Backup.ShouldNotBeNull();
        _kit.Bucket.Load(change.Backup).ShouldBe(Encoding.UTF8.GetBytes("old content\n"));
    }

    [Fact]
    public async Task Apply_BackupOff_StoresNothing()
    {
        await IOFile.WriteAllTextAsync(_dir["data"], "old\n");
        var change = (await _kit.ConvergeAsync(Spec("data", ("content", "new"), ("backup", "false")))).Single();
        change.Backup.ShouldBeNull();
        _kit.Bucket.Load(ContentText.Sha256("old\n"u8)).ShouldBeNull();
    }

    [Fact]
    public async Task Drift_Chmod_ShowsModeAndApplySetsOnlyMode()
    {
        var path = _dir["script"];
        var spec = Spec("script", ("content", "#!/bin/sh\n"), ("mode", "0755"));
        await _kit.ConvergeAsync(spec);

        IOFile.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var applied = await _kit.ConvergeAsync(spec);

        ConvergenceKit.Show(applied).ShouldBe(["mode: 0600 -> 0755"]);
        ModeOf(path).ShouldBe(new UnixMode(0x1ED));
    }

    [Fact]
    public async Task Drift_Deleted_PlansCreationAgain()
    {
        var path = _dir["motd"];
        var spec = Spec("motd", ("content", "x"));
        await _kit.ConvergeAsync(spec);
        IOFile.Delete(path);

        ConvergenceKit.Show(await _kit.PlanAsync(spec))[0].ShouldBe("ensure: absent -> file");
        await _kit.ConvergeAsync(spec);
        IOFile.ReadAllText(path).ShouldBe("x");
    }

    [Fact]
    public async Task Converge_OwnerAndGroupByName_ChownsToNobody()
    {
        var path = _dir["owned"];
        await IOFile.WriteAllTextAsync(path, "x");
        var spec = Spec("owned", ("owner", "nobody"), ("group", "nogroup"));

        var applied = await _kit.ConvergeAsync(spec);

        ConvergenceKit.Show(applied).ShouldBe(["owner: root -> nobody", "group: root -> nogroup"]);
        var status = _kit.System.Stat(path)!;
        (status.Uid, status.Gid).ShouldBe((65534, 65534));
    }

    [Fact]
    public async Task Converge_NumericOwner_ComparesById()
    {
        var path = _dir["owned"];
        await IOFile.WriteAllTextAsync(path, "x");
        await _kit.ConvergeAsync(Spec("owned", ("owner", "65534")));
        _kit.System.Stat(path)!.Uid.ShouldBe(65534);
        (await _kit.PlanAsync(Spec("owned", ("owner", "nobody")))).ShouldBeEmpty();
    }

    [Fact]
    public async Task Apply_OwnerThatDoesNotExist_FailsClearly()
    {
        await IOFile.WriteAllTextAsync(_dir["owned"], "x");
        var spec = Spec("owned", ("owner", "no-such-user-cvg"));
        ConvergenceKit.Show(await _kit.PlanAsync(spec)).ShouldBe(["owner: root -> no-such-user-cvg"]);

        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(spec));
        error.Message.ShouldBe("user no-such-user-cvg does not exist; create it (a user resource is required automatically) or use a numeric uid");
    }

    [Fact]
    public async Task Converge_NoContentManaged_CreatesEmptyFileAndLeavesContentAlone()
    {
        var path = _dir["flag"];
        var spec = Spec("flag");
        ConvergenceKit.Show(await _kit.ConvergeAsync(spec)).ShouldBe(["ensure: absent -> file"]);
        IOFile.ReadAllBytes(path).ShouldBeEmpty();

        await IOFile.WriteAllTextAsync(path, "someone wrote this");
        (await _kit.PlanAsync(spec)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Converge_Source_CopiesBytesReadAtReadTime()
    {
        var source = _dir["source.bin"];
        await IOFile.WriteAllBytesAsync(source, [1, 2, 0, 3]);
        var spec = Spec("copy.bin", ("source", source));

        var applied = await _kit.ConvergeAsync(spec);

        applied[1].UnifiedDiff.ShouldBe("Binary files differ");
        IOFile.ReadAllBytes(_dir["copy.bin"]).ShouldBe([1, 2, 0, 3]);
    }

    [Fact]
    public async Task Converge_Absent_RemovesWithBackup()
    {
        var path = _dir["old"];
        await IOFile.WriteAllTextAsync(path, "remember me");
        var change = (await _kit.ConvergeAsync(Spec("old", ("ensure", "absent")))).Single();

        IOFile.Exists(path).ShouldBeFalse();
        ConvergenceKit.Show(change).ShouldBe($"ensure: file -> absent backup={ContentText.Sha256("remember me"u8)}");
        _kit.Bucket.Load(change.Backup!).ShouldBe(Encoding.UTF8.GetBytes("remember me"));
    }

    [Fact]
    public async Task Apply_DirectoryAtPath_PlansEnsureButRefuses()
    {
        IODirectory.CreateDirectory(_dir["conf.d"]);
        var spec = Spec("conf.d", ("content", "x"));
        ConvergenceKit.Show(await _kit.PlanAsync(spec)).ShouldBe(["ensure: directory -> file"]);

        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(spec));
        error.Message.ShouldBe($"{_dir["conf.d"]} is a directory, not a regular file; a file resource does not replace it — remove it or manage it as what it is");
        IODirectory.Exists(_dir["conf.d"]).ShouldBeTrue();
    }

    [Fact]
    public async Task Apply_ParentMissing_FailsNamingTheParent()
    {
        var spec = Spec("missing/motd", ("content", "x"));
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(spec));
        error.Message.ShouldBe($"parent directory {_dir["missing"]} of {_dir["missing/motd"]} does not exist; manage it or create it");
    }

    [Fact]
    public async Task Converge_SymlinkAtPath_IsReplacedByFileNotFollowed()
    {
        var target = _dir["target"];
        await IOFile.WriteAllTextAsync(target, "target stays");
        IOFile.CreateSymbolicLink(_dir["motd"], target);

        await _kit.ConvergeAsync(Spec("motd", ("content", "mine")));

        _kit.System.Stat(_dir["motd"])!.Kind.ShouldBe(FileKind.File);
        IOFile.ReadAllText(target).ShouldBe("target stays");
    }

    [Fact]
    public async Task Apply_ValidateAccepts_WritesAndLeavesNoTempFile()
    {
        var spec = Spec("app.conf", ("content", "valid\n"), ("validate", Quoted("grep -q '^valid$' %")));
        await _kit.ConvergeAsync(spec);
        IODirectory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).ShouldBe(["app.conf"]);
    }

    [Fact]
    public async Task Apply_ValidateRejects_LiveFileUntouchedNoTempFileExitCodeAndStderrInMessage()
    {
        var path = _dir["app.conf"];
        await IOFile.WriteAllTextAsync(path, "live\n");
        var spec = Spec("app.conf", ("content", "broken\n"),
            ("validate", List(Plain("/bin/sh"), Plain("-c"), Quoted("echo \"bad config in $1\" >&2; exit 3"), Plain("sh"), Plain("%"))));

        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(spec));

        error.Message.ShouldStartWith("validate command exited 3: /bin/sh -c 'echo \"bad config in $1\" >&2; exit 3' sh ");
        error.Message.ShouldContain("; the file was not changed\nbad config in " + _dir.Path + "/.app.conf.converge-validate-");
        IOFile.ReadAllText(path).ShouldBe("live\n");
        IODirectory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).ShouldBe(["app.conf"]);
    }

    [Fact]
    public async Task Apply_ValidateSeesNewContentBesideTarget()
    {
        var spec = Spec("app.conf", ("content", "new\n"),
            ("validate", Quoted($"test \"$(dirname %)\" = {_dir.Path} && grep -q new %")));
        await _kit.ConvergeAsync(spec);
        IOFile.ReadAllText(_dir["app.conf"]).ShouldBe("new\n");
    }

    [Fact]
    public async Task Apply_FileChangedBetweenReadAndApply_WritesNothing()
    {
        var path = _dir["racy"];
        await IOFile.WriteAllTextAsync(path, "v1");
        var spec = Spec("racy", ("content", "v3"));
        var actual = await _provider.ReadAsync(spec, _kit.Context, CancellationToken.None);
        var changes = _provider.Diff(spec, actual);
        await IOFile.WriteAllTextAsync(path, "v2");

        var error = await Should.ThrowAsync<ProviderException>(async () => await _provider.ApplyAsync(spec, actual, changes, _kit.Context, CancellationToken.None));

        error.Message.ShouldBe($"{path} changed after it was read for the plan; nothing was written — run again");
        IOFile.ReadAllText(path).ShouldBe("v2");
    }

    [Fact]
    public async Task Read_SourceMissing_FailsNamingSource()
    {
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.PlanAsync(Spec("copy", ("source", _dir["nope"]))));
        error.Message.ShouldStartWith($"cannot read source {_dir["nope"]}: ");
    }
}
