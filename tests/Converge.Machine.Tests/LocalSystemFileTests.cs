using System.Globalization;
using System.Text;

namespace Converge.Machine.Tests;

public sealed class LocalSystemFileTests : IDisposable
{
    private const int Nobody = 65534;
    private readonly TempDirectory _temp = new();
    private readonly LocalSystem _sys = new();

    public void Dispose() => _temp.Dispose();

    private static UnixMode Mode(string octal) => UnixMode.TryParse(octal, out var m) ? m : throw new ArgumentException(octal);

    private string[] Leftovers() =>
        Directory.GetFileSystemEntries(_temp.Path).Select(Path.GetFileName).Where(n => n!.Contains(".converge-")).ToArray()!;

    [Fact]
    public void Stat_RegularFile_MatchesStatCommand()
    {
        var path = _temp.Write("f", "hello world");
        Run.Output("chown", "65534:65534", path);
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("4751", 8)); // after chown, which clears setuid

        var st = _sys.Stat(path)!;

        var fields = Run.Output("stat", "-c", "%a %u %g %s %F", path).Split(' ', 5);
        st.Kind.ShouldBe(FileKind.File);
        st.Mode.ShouldBe(new UnixMode(Convert.ToInt32(fields[0], 8)));
        st.Mode.ShouldBe(Mode("4751"));
        st.Uid.ShouldBe(int.Parse(fields[1], CultureInfo.InvariantCulture));
        st.Gid.ShouldBe(int.Parse(fields[2], CultureInfo.InvariantCulture));
        st.Size.ShouldBe(long.Parse(fields[3], CultureInfo.InvariantCulture));
        st.LinkTarget.ShouldBeNull();
    }

    [Fact]
    public void Stat_Directory_ReturnsDirectoryKind()
    {
        _sys.Stat(_temp.Path)!.Kind.ShouldBe(FileKind.Directory);
    }

    [Fact]
    public void Stat_Missing_ReturnsNull()
    {
        _sys.Stat(_temp.Combine("nope")).ShouldBeNull();
        _sys.Stat(_temp.Combine("nope/deeper")).ShouldBeNull();
    }

    [Fact]
    public void Stat_Symlink_DescribesLinkNotTarget()
    {
        var target = _temp.Write("target", "0123456789");
        var link = _temp.Combine("link");
        File.CreateSymbolicLink(link, "target");

        var st = _sys.Stat(link)!;

        st.Kind.ShouldBe(FileKind.Symlink);
        st.LinkTarget.ShouldBe("target");
        st.Size.ShouldBe("target".Length);
        _sys.Stat(target)!.Size.ShouldBe(10);
    }

    [Fact]
    public void Stat_DanglingSymlink_StillReturnsLink()
    {
        var link = _temp.Combine("dangling");
        File.CreateSymbolicLink(link, "/nonexistent/converge");

        _sys.Stat(link)!.LinkTarget.ShouldBe("/nonexistent/converge");
    }

    [Fact]
    public void WriteFileAtomic_NewFile_WritesContentWith0644()
    {
        var path = _temp.Combine("new");

        _sys.WriteFileAtomic(path, "content\n"u8, FileAttributes.Default);

        File.ReadAllText(path).ShouldBe("content\n");
        _sys.Stat(path)!.Mode.ShouldBe(Mode("0644"));
        Leftovers().ShouldBeEmpty();
    }

    [Fact]
    public void SyncDirectories_TempLeftByKilledRun_IsRemovedWhenOldEnough()
    {
        var stale = _temp.Write(".app.conf.converge-0123456789abcdef", "half-writ"); // what a SIGKILL mid-write leaves
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddMinutes(-5));
        var fresh = _temp.Write(".other.converge-fedcba9876543210", "in flight");
        var notOurs = _temp.Write(".notes.converge-backup", "keep");

        _sys.WriteFileAtomic(Path.Combine(_temp.Path, "app.conf"), Encoding.UTF8.GetBytes("whole\n"), FileAttributes.Default);
        _sys.SyncDirectories();

        File.Exists(stale).ShouldBeFalse();
        File.Exists(fresh).ShouldBeTrue(); // may belong to a writer still at work
        File.Exists(notOurs).ShouldBeTrue();
        File.ReadAllText(Path.Combine(_temp.Path, "app.conf")).ShouldBe("whole\n");
    }

    [Fact]
    public void WriteFileAtomic_TargetExists_ReplacesContentAndKeepsMode()
    {
        var path = _temp.Write("existing", "old");
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("0640", 8));
        Run.Output("chown", "65534:65534", path);

        _sys.WriteFileAtomic(path, "new"u8, FileAttributes.Default);

        File.ReadAllText(path).ShouldBe("new");
        var st = _sys.Stat(path)!;
        st.Mode.ShouldBe(Mode("0640"));
        (st.Uid, st.Gid).ShouldBe((Nobody, Nobody));
        Leftovers().ShouldBeEmpty();
    }

    [Fact]
    public void WriteFileAtomic_ModeAndOwnerRequested_AppliesBothKeepingSetuid()
    {
        var path = _temp.Write("tool", "old");

        _sys.WriteFileAtomic(path, "#!/bin/sh\n"u8, new FileAttributes(Mode("4750"), Nobody, Nobody));

        Run.Output("stat", "-c", "%a %u %g", path).ShouldBe("4750 65534 65534");
    }

    [Fact]
    public void WriteFileAtomic_OnlyGroupRequested_KeepsOwnerAndMode()
    {
        var path = _temp.Write("g", "old");
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("0600", 8));

        _sys.WriteFileAtomic(path, "x"u8, new FileAttributes(Gid: Nobody));

        Run.Output("stat", "-c", "%a %u %g", path).ShouldBe("600 0 65534");
    }

    [Fact]
    public void WriteFileAtomic_TargetIsSymlink_ReplacesLinkNotItsTarget()
    {
        var target = _temp.Write("target", "keep me");
        var link = _temp.Combine("link");
        File.CreateSymbolicLink(link, target);

        _sys.WriteFileAtomic(link, "file now"u8, FileAttributes.Default);

        _sys.Stat(link)!.Kind.ShouldBe(FileKind.File);
        File.ReadAllText(link).ShouldBe("file now");
        File.ReadAllText(target).ShouldBe("keep me");
    }

    [Fact]
    public void WriteFileAtomic_TargetIsDirectory_ThrowsAndLeavesItAlone()
    {
        var dir = _temp.Combine("dir");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Join(dir, "inside"), "x");

        var e = Should.Throw<IOException>(() => _sys.WriteFileAtomic(dir, "x"u8, FileAttributes.Default));

        e.Message.ShouldContain(dir);
        e.Message.ShouldContain("Is a directory");
        File.ReadAllText(Path.Join(dir, "inside")).ShouldBe("x");
        Leftovers().ShouldBeEmpty();
    }

    [Fact]
    public void WriteFileAtomic_ParentMissing_ThrowsNamingPath()
    {
        var path = _temp.Combine("missing/file");

        var e = Should.Throw<IOException>(() => _sys.WriteFileAtomic(path, "x"u8, FileAttributes.Default));

        e.Message.ShouldContain(_temp.Combine("missing/"));
        e.Message.ShouldContain("No such file or directory");
    }

    [Fact]
    public void WriteFileAtomic_ConcurrentWriters_FileHoldsOneWholeContent()
    {
        var path = _temp.Combine("contended");
        var contents = Enumerable.Range(0, 8).Select(i => new string((char)('a' + i), 100_000)).ToArray();

        Parallel.ForEach(contents, c => _sys.WriteFileAtomic(path, Encoding.ASCII.GetBytes(c), FileAttributes.Default));

        contents.ShouldContain(File.ReadAllText(path));
        Leftovers().ShouldBeEmpty();
    }

    [Fact]
    public void ReadAllBytes_File_ReturnsContent()
    {
        var path = _temp.Write("r", "abc");

        _sys.ReadAllBytes(path).ShouldBe("abc"u8.ToArray());
    }

    [Fact]
    public void ReadAllBytes_ProcFileReportingSizeZero_ReadsToEnd()
    {
        _sys.ReadAllBytes("/proc/self/status").Length.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void ReadAllBytes_LargeFile_ReturnsAll()
    {
        var content = Enumerable.Range(0, 3_000_000).Select(i => (byte)i).ToArray();
        var path = _temp.Combine("big");
        File.WriteAllBytes(path, content);

        _sys.ReadAllBytes(path).ShouldBe(content);
    }

    [Fact]
    public void ReadAllBytes_Missing_ThrowsFileNotFoundNamingPath()
    {
        var path = _temp.Combine("missing");

        Should.Throw<FileNotFoundException>(() => _sys.ReadAllBytes(path)).Message.ShouldBe($"open {path}: No such file or directory (errno 2)");
    }

    [Fact]
    public void ReadAllBytes_Directory_ThrowsIsADirectory()
    {
        Should.Throw<IOException>(() => _sys.ReadAllBytes(_temp.Path)).Message.ShouldContain("Is a directory");
    }

    [Fact]
    public void ListDirectory_MixedEntries_ReturnsNamesSortedOrdinally()
    {
        foreach (var name in new[] { "b", "B", "a", ".hidden", "Z" }) _temp.Write(name, "");
        Directory.CreateDirectory(_temp.Combine("sub"));
        File.CreateSymbolicLink(_temp.Combine("link"), "/");

        _sys.ListDirectory(_temp.Path).ShouldBe([".hidden", "B", "Z", "a", "b", "link", "sub"]);
    }

    [Fact]
    public void CreateDirectory_ModeRequested_AppliedDespiteUmask()
    {
        var dir = _temp.Combine("d");

        _sys.CreateDirectory(dir, new FileAttributes(Mode("2777"), Nobody, Nobody));

        Run.Output("stat", "-c", "%a %u %g %F", dir).ShouldBe("2777 65534 65534 directory");
    }

    [Fact]
    public void CreateDirectory_Exists_Throws()
    {
        var e = Should.Throw<IOException>(() => _sys.CreateDirectory(_temp.Path, FileAttributes.Default));

        e.Message.ShouldContain("File exists");
    }

    [Fact]
    public void CreateSymlink_New_PointsAtTarget()
    {
        var link = _temp.Combine("l");

        _sys.CreateSymlink(link, "/etc/hostname");

        _sys.Stat(link)!.LinkTarget.ShouldBe("/etc/hostname");
        Leftovers().ShouldBeEmpty();
    }

    [Fact]
    public void CreateSymlink_ExistingLinkAndFile_ReplacedAtomically()
    {
        var link = _temp.Combine("l");
        File.CreateSymbolicLink(link, "/old");
        var file = _temp.Write("f", "was a file");

        _sys.CreateSymlink(link, "/new");
        _sys.CreateSymlink(file, "/new");

        _sys.Stat(link)!.LinkTarget.ShouldBe("/new");
        _sys.Stat(file)!.LinkTarget.ShouldBe("/new");
    }

    [Fact]
    public void CreateSymlink_OverDirectory_ThrowsAndLeavesNoTemp()
    {
        var dir = _temp.Combine("d");
        Directory.CreateDirectory(dir);

        Should.Throw<IOException>(() => _sys.CreateSymlink(dir, "/new"));

        _sys.Stat(dir)!.Kind.ShouldBe(FileKind.Directory);
        Leftovers().ShouldBeEmpty();
    }

    [Fact]
    public void SetModeAndOwner_File_Applied()
    {
        var path = _temp.Write("m", "");

        _sys.SetOwner(path, Nobody, null);
        _sys.SetMode(path, Mode("0604"));

        Run.Output("stat", "-c", "%a %u %g", path).ShouldBe("604 65534 0");
    }

    [Fact]
    public void SetOwner_Symlink_ChangesLinkNotTarget()
    {
        var target = _temp.Write("t", "");
        var link = _temp.Combine("l");
        File.CreateSymbolicLink(link, target);

        _sys.SetOwner(link, Nobody, Nobody);

        _sys.Stat(link)!.Uid.ShouldBe(Nobody);
        _sys.Stat(target)!.Uid.ShouldBe(0);
    }

    [Fact]
    public void SetMode_Missing_ThrowsFileNotFoundNamingPath()
    {
        var path = _temp.Combine("missing");

        var e = Should.Throw<FileNotFoundException>(() => _sys.SetMode(path, Mode("0644")));

        e.Message.ShouldBe($"chmod {path}: No such file or directory (errno 2)");
    }

    [Fact]
    public void DeleteFile_FileAndMissing_RemovesAndIgnoresMissing()
    {
        var path = _temp.Write("x", "");

        _sys.DeleteFile(path);
        _sys.DeleteFile(path);

        File.Exists(path).ShouldBeFalse();
    }

    [Fact]
    public void DeleteDirectory_NotRecursiveNonEmpty_Throws()
    {
        var dir = _temp.Combine("d");
        Directory.CreateDirectory(dir);
        _temp.Write("d/f", "");

        Should.Throw<IOException>(() => _sys.DeleteDirectory(dir, recursive: false)).Message.ShouldContain("not empty");
    }

    [Fact]
    public void DeleteDirectory_Recursive_DoesNotFollowSymlinks()
    {
        using var outside = new TempDirectory();
        var precious = outside.Write("precious", "keep");
        var dir = _temp.Combine("tree");
        Directory.CreateDirectory(Path.Join(dir, "a/b"));
        File.WriteAllText(Path.Join(dir, "a/b/file"), "x");
        File.CreateSymbolicLink(Path.Join(dir, "a/link-to-outside"), outside.Path);
        File.CreateSymbolicLink(Path.Join(dir, "link-to-file"), precious);

        _sys.DeleteDirectory(dir, recursive: true);

        Directory.Exists(dir).ShouldBeFalse();
        File.ReadAllText(precious).ShouldBe("keep");
    }

    [Fact]
    public void DeleteDirectory_PathIsSymlinkToDirectory_ThrowsWithoutTouchingTarget()
    {
        using var outside = new TempDirectory();
        outside.Write("f", "");
        var link = _temp.Combine("l");
        File.CreateSymbolicLink(link, outside.Path);

        Should.Throw<IOException>(() => _sys.DeleteDirectory(link, recursive: true));

        File.Exists(outside.Combine("f")).ShouldBeTrue();
    }
}
