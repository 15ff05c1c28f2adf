using System.IO.Enumeration;
using System.Runtime.InteropServices;
using System.Text;
using Converge.Machine.Native;

namespace Converge.Machine;

/// <summary>
/// The real machine: files through libc (statx, open/fchmod/fchown/fsync/rename), processes through
/// <see cref="ProcessRunner"/>, users from <see cref="PasswdDatabase"/>. Thread-safe; holds no state
/// besides the users database cache and the set of directories whose entries changed since the last
/// <see cref="SyncDirectories"/>.
/// </summary>
public sealed class LocalSystem : ISystem
{
    private static readonly UnixMode DefaultFileMode = new(0b110_100_100); // 0644
    private readonly ProcessRunner _processes;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _dirtyDirectories = new(StringComparer.Ordinal);

    /// <summary>A system over this host's files, processes and <c>/etc/passwd</c> + <c>/etc/group</c>.</summary>
    public LocalSystem() : this(new PasswdDatabase()) { }

    /// <summary>A system whose user lookups come from <paramref name="users"/> (tests point it at a temp root).</summary>
    public LocalSystem(IUserDatabase users)
    {
        Users = users;
        _processes = new ProcessRunner(users);
    }

    /// <inheritdoc />
    public IUserDatabase Users { get; }

    /// <inheritdoc />
    public FileStatus? Stat(string path)
    {
        if (!Statx.TryLstat(path, out var st, out var errno))
            return errno is LibC.ENOENT or LibC.ENOTDIR ? null : throw Errno.For(errno, "lstat", path);
        var kind = st.Kind;
        var target = kind == FileKind.Symlink ? ReadLink(path) : null;
        return new FileStatus(kind, st.Permissions, st.Uid, st.Gid, st.Size, target);
    }

    /// <inheritdoc />
    /// <remarks>Follows symlinks, like open(2). Throws <see cref="FileNotFoundException"/> when the path does not exist.</remarks>
    public byte[] ReadAllBytes(string path) => FileDescriptor.ReadAll(path);

    /// <inheritdoc />
    public IReadOnlyList<string> ListDirectory(string path)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
        var names = new FileSystemEnumerable<string>(path, (ref FileSystemEntry e) => e.FileName.ToString(), options).ToList();
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <inheritdoc />
    /// <remarks>
    /// With no mode (or owner) requested, an existing regular file keeps its own; a new file gets 0644
    /// and the caller's ids. An existing symlink is replaced by the file, not followed. The temp file is
    /// created 0600 with O_EXCL so nobody else can open it while it is being filled, and it is removed
    /// if anything fails, leaving the old content in place.
    /// </remarks>
    public void WriteFileAtomic(string path, ReadOnlySpan<byte> content, FileAttributes attributes)
    {
        var existing = Statx.TryLstat(path, out var st, out var errno) ? st : (StatxResult?)null;
        if (existing is null && errno is not (LibC.ENOENT))
            throw Errno.For(errno, "lstat", path);
        if (existing?.Kind == FileKind.Directory)
            throw Errno.For(LibC.EISDIR, "write", path);

        var keep = existing?.Kind == FileKind.File ? existing : null;
        var mode = attributes.Mode ?? keep?.Permissions ?? DefaultFileMode;
        var uid = attributes.Uid ?? keep?.Uid ?? -1;
        var gid = attributes.Gid ?? keep?.Gid ?? -1;

        var temp = TempName.Beside(path);
        var fd = FileDescriptor.Open(temp, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0x180, "create");
        try
        {
            FileDescriptor.WriteAll(fd, content, temp);
            // chown before chmod: chown clears setuid/setgid bits, so the mode must come last.
            if (uid != -1 || gid != -1) Errno.Check(LibC.FChown(fd, uid, gid), "chown", temp);
            Errno.Check(LibC.FChmod(fd, (uint)mode.Bits), "chmod", temp);
            FileDescriptor.Fsync(fd, temp);
            var closed = LibC.Close(fd);
            fd = -1;
            Errno.Check(closed, "close", temp);
            Errno.Check(LibC.Rename(temp, path), "rename", path);
        }
        catch
        {
            FileDescriptor.CloseQuietly(fd);
            LibC.Unlink(temp);
            throw;
        }
        // Each file's data is synced before its rename (so the new name never points at partial
        // content); the directory entry is synced once per directory in SyncDirectories, because one
        // directory fsync per file doubles the cost of a large first run.
        _dirtyDirectories.TryAdd(DirectoryOf(path), 0);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Also removes temp files of ours older than a minute from those directories: a run killed between
    /// creating a temp file and renaming it leaves one behind (the managed file itself is untouched), and
    /// the next run that writes into that directory clears it. A temp file in flight lives milliseconds,
    /// so the age test never races a concurrent writer.
    /// </remarks>
    public void SyncDirectories()
    {
        foreach (var dir in _dirtyDirectories.Keys.Order(StringComparer.Ordinal).ToList())
        {
            _dirtyDirectories.TryRemove(dir, out _);
            if (!Directory.Exists(dir)) continue;
            RemoveStaleTemps(dir, DateTime.UtcNow - TimeSpan.FromMinutes(1));
            FileDescriptor.FsyncDirectory(dir);
        }
    }

    private static void RemoveStaleTemps(string dir, DateTime olderThan)
    {
        try
        {
            foreach (var path in Directory.EnumerateFiles(dir, ".*.converge-*"))
                if (TempName.IsOurs(Path.GetFileName(path)) && File.GetLastWriteTimeUtc(path) < olderThan)
                    LibC.Unlink(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp file is untidy, not wrong.
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A requested mode is applied exactly (chmod after mkdir, so the umask does not strip bits); the
    /// directory is created 0700 first so it is never more open than asked for. With no mode the
    /// system default applies (0777 less the umask). Throws if the path already exists.
    /// </remarks>
    public void CreateDirectory(string path, FileAttributes attributes)
    {
        Errno.Check(LibC.Mkdir(path, attributes.Mode is null ? 0x1FFu : 0x1C0u), "mkdir", path);
        if (attributes.Mode is null && attributes.Uid is null && attributes.Gid is null) return;

        var fd = FileDescriptor.Open(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0, "open");
        try
        {
            if (attributes.Uid is not null || attributes.Gid is not null)
                Errno.Check(LibC.FChown(fd, attributes.Uid ?? -1, attributes.Gid ?? -1), "chown", path);
            if (attributes.Mode is { } mode)
                Errno.Check(LibC.FChmod(fd, (uint)mode.Bits), "chmod", path);
        }
        finally
        {
            FileDescriptor.CloseQuietly(fd);
        }
    }

    /// <inheritdoc />
    /// <remarks>Replaces a file or symlink at <paramref name="path"/>; fails on a directory.</remarks>
    public void CreateSymlink(string path, string target)
    {
        var temp = TempName.Beside(path);
        Errno.Check(LibC.Symlink(target, temp), "symlink", temp);
        try
        {
            if (Statx.TryLstat(path, out var st, out _) && st.Kind == FileKind.Directory)
                throw Errno.For(LibC.EISDIR, "symlink", path);
            Errno.Check(LibC.Rename(temp, path), "rename", path);
        }
        catch
        {
            LibC.Unlink(temp);
            throw;
        }
        _dirtyDirectories.TryAdd(DirectoryOf(path), 0);
    }

    /// <inheritdoc />
    /// <remarks>On a symlink this fails with "Operation not supported" rather than changing its target.</remarks>
    public void SetMode(string path, UnixMode mode) =>
        Errno.Check(LibC.FChmodAt(LibC.AT_FDCWD, path, (uint)mode.Bits, LibC.AT_SYMLINK_NOFOLLOW), "chmod", path);

    /// <inheritdoc />
    /// <remarks>Changing the owner of a file clears its setuid/setgid bits: set the mode afterwards.</remarks>
    public void SetOwner(string path, int? uid, int? gid)
    {
        if (uid is null && gid is null) return;
        Errno.Check(LibC.LChown(path, uid ?? -1, gid ?? -1), "chown", path);
    }

    /// <inheritdoc />
    /// <remarks>Nothing to do (no exception) when the path does not exist.</remarks>
    public void DeleteFile(string path)
    {
        if (LibC.Unlink(path) == 0) return;
        var errno = Marshal.GetLastPInvokeError();
        if (errno != LibC.ENOENT) throw Errno.For(errno, "unlink", path);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Recursion lstats every entry and never follows a symlink: a link to a directory is removed as
    /// a link, its target untouched. Nothing to do when the path does not exist.
    /// </remarks>
    public void DeleteDirectory(string path, bool recursive)
    {
        if (!Statx.TryLstat(path, out var st, out var errno))
        {
            if (errno == LibC.ENOENT) return;
            throw Errno.For(errno, "lstat", path);
        }
        if (st.Kind != FileKind.Directory) throw Errno.For(LibC.ENOTDIR, "rmdir", path);
        if (recursive) DeleteChildren(path);
        Errno.Check(LibC.Rmdir(path), "rmdir", path);
    }

    /// <inheritdoc />
    public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct) => _processes.RunAsync(spec, ct);

    private void DeleteChildren(string directory)
    {
        foreach (var name in ListDirectory(directory))
        {
            var child = Path.Join(directory, name);
            if (!Statx.TryLstat(child, out var st, out var errno))
            {
                if (errno == LibC.ENOENT) continue;
                throw Errno.For(errno, "lstat", child);
            }
            if (st.Kind == FileKind.Directory)
            {
                DeleteChildren(child);
                Errno.Check(LibC.Rmdir(child), "rmdir", child);
            }
            else
            {
                DeleteFile(child);
            }
        }
    }

    private static unsafe string ReadLink(string path)
    {
        const int PathMax = 4096;
        byte* buffer = stackalloc byte[PathMax];
        var length = LibC.ReadLink(path, buffer, PathMax);
        if (length < 0) throw Errno.Last("readlink", path);
        return Encoding.UTF8.GetString(buffer, (int)length);
    }

    private static string DirectoryOf(string path) =>
        Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
}
