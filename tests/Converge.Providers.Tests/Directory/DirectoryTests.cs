using Converge.Providers.Directory;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Directory;

public class DirectoryParseAndDiffTests
{
    private readonly DirectoryProvider _provider = new();

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<DirectorySpec>(_provider, Resource("directory", "/srv/app",
            ("ensure", "present"), ("mode", "2775"), ("owner", "root"), ("group", "adm"), ("purge", "true"), ("force", "true")));
        spec.Ensure.ShouldBe(DirectoryEnsure.Directory);
        spec.Ownership.Mode.ShouldBe(new UnixMode(0x5FD));
        (spec.Purge, spec.Force).ShouldBe((true, true));
    }

    [Fact]
    public void Parse_RecurseIsNotAProperty()
    {
        var (_, errors) = Parse<DirectorySpec>(_provider, Resource("directory", "/srv/app", ("recurse", "true")));
        errors.ShouldBe(["site.yaml:2:3: error CVG4001: directory[/srv/app]: unknown property 'recurse' for type directory"]);
    }

    [Fact]
    public void Parse_TrailingSlashTitle_SuggestsNormalized()
    {
        var (_, errors) = Parse<DirectorySpec>(_provider, Resource("directory", "/srv/app/"));
        errors.ShouldBe(["site.yaml:1:14: error CVG4009: directory[/srv/app/]: title must be an absolute, normalized path such as /etc/motd; got /srv/app/; write /srv/app"]);
    }

    [Fact]
    public void Diff_PurgeEntries_OneChangePerEntryWithBackup()
    {
        var spec = new DirectorySpec { Id = new("directory", "/d"), Path = "/d", Purge = true };
        var actual = new DirectoryActual
        {
            Status = new FileStatus(FileKind.Directory, new UnixMode(0x1ED), 0, 0, 0, null),
            Unmanaged = [new PurgeEntry("/d/a", FileKind.File, "abc"), new PurgeEntry("/d/sub", FileKind.Directory, null)],
        };
        ConvergenceKit.Show(_provider.Diff(spec, actual)).ShouldBe(["purge: /d/a -> null backup=abc", "purge: /d/sub -> null"]);
    }

    [Fact]
    public void AutoRequires_ParentDirectoriesClosestFirst()
    {
        var spec = ParseOk<DirectorySpec>(_provider, Resource("directory", "/a/b/c"));
        _provider.AutoRequires(spec).Single().FirstOf.Select(i => i.ToString()).ShouldBe(["directory[/a/b]", "directory[/a]", "directory[/]"]);
    }
}

/// <summary>The directory provider against real directories in a fresh temp directory per test.</summary>
public sealed class DirectoryConvergenceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TempDirectory _bucketDir = new();
    private readonly DirectoryProvider _provider = new();

    public void Dispose()
    {
        _dir.Dispose();
        _bucketDir.Dispose();
    }

    private ConvergenceKit Kit(params string[] managed) =>
        new(_provider, _bucketDir.Path, managed.Select(m => _dir[m]).ToHashSet());

    private DirectorySpec Spec(string name, params (string, object)[] properties) =>
        ParseOk<DirectorySpec>(_provider, Resource("directory", _dir[name], properties));

    [Fact]
    public async Task Converge_NewDirectoryWithModeAndOwner_CreatedInOneStep()
    {
        var kit = Kit();
        var applied = await kit.ConvergeAsync(Spec("app", ("mode", "0750"), ("owner", "nobody"), ("group", "nogroup")));

        ConvergenceKit.Show(applied).ShouldBe(["ensure: absent -> directory", "owner: null -> nobody", "group: null -> nogroup", "mode: null -> 0750"]);
        var status = kit.System.Stat(_dir["app"])!;
        (status.Kind, status.Mode, status.Uid, status.Gid).ShouldBe((FileKind.Directory, new UnixMode(0x1E8), 65534, 65534));
    }

    [Fact]
    public async Task Drift_ChmodAndChown_ShowUpAndConverge()
    {
        var kit = Kit();
        var spec = Spec("app", ("mode", "2750"), ("group", "nogroup"));
        await kit.ConvergeAsync(spec);
        kit.System.SetOwner(_dir["app"], null, 0);
        kit.System.SetMode(_dir["app"], new UnixMode(0x1FF));

        var applied = await kit.ConvergeAsync(spec);

        ConvergenceKit.Show(applied).ShouldBe(["group: root -> nogroup", "mode: 0777 -> 2750"]);
        kit.System.Stat(_dir["app"])!.Mode.ShouldBe(new UnixMode(0x5E8));
    }

    [Fact]
    public async Task Apply_ParentMissing_FailsLikePuppet()
    {
        var error = await Should.ThrowAsync<ProviderException>(() => Kit().ApplyAsync(Spec("a/b")));
        error.Message.ShouldBe($"parent directory {_dir["a"]} of {_dir["a/b"]} does not exist; manage it or create it");
        IODirectory.Exists(_dir["a"]).ShouldBeFalse();
    }

    [Fact]
    public async Task Purge_RemovesOnlyUnmanagedEntries_BackingUpFiles()
    {
        var root = _dir["conf.d"];
        IODirectory.CreateDirectory(root);
        await IOFile.WriteAllTextAsync(Path.Join(root, "managed.conf"), "keep");
        await IOFile.WriteAllTextAsync(Path.Join(root, "stray.conf"), "stray content");
        IODirectory.CreateDirectory(Path.Join(root, "deep/er"));
        await IOFile.WriteAllTextAsync(Path.Join(root, "deep/er/managed"), "keep");
        await IOFile.WriteAllTextAsync(Path.Join(root, "deep/unmanaged"), "inside a protected dir: not purged (purge is one level)");
        IODirectory.CreateDirectory(Path.Join(root, "old/nested"));
        await IOFile.WriteAllTextAsync(Path.Join(root, "old/nested/file"), "nested content");
        IOFile.CreateSymbolicLink(Path.Join(root, "link"), "/nowhere");
        var kit = Kit("conf.d", "conf.d/managed.conf", "conf.d/deep/er/managed");

        var applied = await kit.ConvergeAsync(Spec("conf.d", ("purge", "true")));

        ConvergenceKit.Show(applied).ShouldBe([
            $"purge: {root}/link -> null",
            $"purge: {root}/old -> null",
            $"purge: {root}/stray.conf -> null backup={ContentText.Sha256("stray content"u8)}",
        ]);
        IODirectory.GetFileSystemEntries(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(["deep", "managed.conf"]);
        IOFile.Exists(Path.Join(root, "deep/unmanaged")).ShouldBeTrue();
        kit.Bucket.Load(ContentText.Sha256("stray content"u8)).ShouldNotBeNull();
        kit.Bucket.Load(ContentText.Sha256("nested content"u8)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Drift_NewStrayFile_ShowsAsPurge()
    {
        var kit = Kit("conf.d");
        var spec = Spec("conf.d", ("purge", "true"));
        await kit.ConvergeAsync(spec);
        await IOFile.WriteAllTextAsync(_dir["conf.d/new"], "n");
        ConvergenceKit.Show(await kit.PlanAsync(spec)).ShouldBe([$"purge: {_dir["conf.d/new"]} -> null backup={ContentText.Sha256("n"u8)}"]);
    }

    [Fact]
    public async Task Absent_NonEmptyWithoutForce_FailsSayingAddForce()
    {
        IODirectory.CreateDirectory(_dir["full"]);
        await IOFile.WriteAllTextAsync(_dir["full/f"], "x");
        var spec = Spec("full", ("ensure", "absent"));
        ConvergenceKit.Show(await Kit().PlanAsync(spec)).ShouldBe(["ensure: directory -> absent"]);

        var error = await Should.ThrowAsync<ProviderException>(() => Kit().ApplyAsync(spec));
        error.Message.ShouldBe($"directory {_dir["full"]} is not empty; add force: true to remove it with everything in it");
        IOFile.Exists(_dir["full/f"]).ShouldBeTrue();
    }

    [Fact]
    public async Task Absent_WithForce_RemovesTree()
    {
        IODirectory.CreateDirectory(_dir["full/sub"]);
        await IOFile.WriteAllTextAsync(_dir["full/sub/f"], "x");
        await Kit().ConvergeAsync(Spec("full", ("ensure", "absent"), ("force", "true")));
        IODirectory.Exists(_dir["full"]).ShouldBeFalse();
    }

    [Fact]
    public async Task Absent_Empty_RemovedWithoutForce()
    {
        IODirectory.CreateDirectory(_dir["empty"]);
        await Kit().ConvergeAsync(Spec("empty", ("ensure", "absent")));
        IODirectory.Exists(_dir["empty"]).ShouldBeFalse();
    }

    [Fact]
    public async Task FileAtPath_WithoutForce_Refused_WithForce_ReplacedAndBackedUp()
    {
        await IOFile.WriteAllTextAsync(_dir["app"], "was a file");
        var error = await Should.ThrowAsync<ProviderException>(() => Kit().ApplyAsync(Spec("app")));
        error.Message.ShouldBe($"{_dir["app"]} is a regular file, not a directory; add force: true to replace it with a directory");

        var kit = Kit();
        var applied = await kit.ConvergeAsync(Spec("app", ("force", "true")));
        ConvergenceKit.Show(applied).ShouldBe([$"ensure: file -> directory backup={ContentText.Sha256("was a file"u8)}"]);
        kit.Bucket.Load(ContentText.Sha256("was a file"u8)).ShouldNotBeNull();
    }
}
