namespace Converge.Machine;

public enum FileKind { File, Directory, Symlink, Other }

/// <summary>What <c>lstat</c> says about a path (symlinks are not followed).</summary>
public sealed record FileStatus(FileKind Kind, UnixMode Mode, int Uid, int Gid, long Size, string? LinkTarget);

/// <summary>Owner and mode to give a path; null members are left as they are (or as the system defaults them).</summary>
public sealed record FileAttributes(UnixMode? Mode = null, int? Uid = null, int? Gid = null)
{
    public static readonly FileAttributes Default = new();
}

/// <summary>An argv to run, never a shell string unless the user wrote one (then argv is <c>/bin/sh -c …</c>).</summary>
public sealed record ProcessSpec(IReadOnlyList<string> Argv)
{
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables added to (or overriding) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Run as this user (name or uid): setuid/setgid/initgroups before exec, HOME set.</summary>
    public string? User { get; init; }

    public TimeSpan? Timeout { get; init; }

    public string? StandardInput { get; init; }
}

/// <summary>Exit code and captured output; <see cref="TimedOut"/> means the process (group) was killed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut, TimeSpan Duration)
{
    /// <summary>The last lines of stderr (or stdout when stderr is empty), for error messages.</summary>
    public string Tail(int lines = 5)
    {
        var text = string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError;
        var all = text.TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}

/// <summary>
/// The only door to the machine. Providers read and change the host through this and nothing else,
/// so tests can hand them a throwaway host. Every write is atomic: a killed run leaves either the old
/// or the new content, never a half-written file.
/// </summary>
public interface ISystem
{
    /// <summary>lstat; null when the path does not exist.</summary>
    FileStatus? Stat(string path);

    byte[] ReadAllBytes(string path);

    /// <summary>Names (not paths) of a directory's entries, sorted ordinally.</summary>
    IReadOnlyList<string> ListDirectory(string path);

    /// <summary>
    /// Writes a temp file in the same directory, sets mode and owner on it, fsyncs, then renames it
    /// over <paramref name="path"/>. Replaces a file, never a directory. The rename itself becomes
    /// durable at the next <see cref="SyncDirectories"/>; until then a power cut may leave the old
    /// content (never a partial one).
    /// </summary>
    void WriteFileAtomic(string path, ReadOnlySpan<byte> content, FileAttributes attributes);

    /// <summary>Creates one directory (not its parents) with the given mode and owner.</summary>
    void CreateDirectory(string path, FileAttributes attributes);

    /// <summary>Points <paramref name="path"/> at <paramref name="target"/> atomically (temp link + rename).</summary>
    void CreateSymlink(string path, string target);

    /// <summary>
    /// Makes every rename done so far durable: fsyncs each directory whose entries changed, once.
    /// The engine calls it at the end of a run.
    /// </summary>
    void SyncDirectories();

    /// <summary>chmod (never follows a symlink: symlinks have no mode of their own on Linux).</summary>
    void SetMode(string path, UnixMode mode);

    /// <summary>lchown; null leaves that id unchanged.</summary>
    void SetOwner(string path, int? uid, int? gid);

    /// <summary>Removes a file or symlink (not a directory).</summary>
    void DeleteFile(string path);

    /// <summary>Removes a directory; with <paramref name="recursive"/>, everything below it too.</summary>
    void DeleteDirectory(string path, bool recursive);

    /// <summary>Runs a process; throws only for a missing executable or cancellation, not for a non-zero exit.</summary>
    Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct);

    /// <summary>The users and groups databases.</summary>
    IUserDatabase Users { get; }
}

/// <summary>Name ↔ id lookups in passwd and group. Answers reflect the databases at the time of the call.</summary>
public interface IUserDatabase
{
    int? UidOf(string user);
    int? GidOf(string group);
    string? UserName(int uid);
    string? GroupName(int gid);

    /// <summary>The user's home directory and primary gid, for running processes as that user.</summary>
    (string Home, int Uid, int Gid)? Account(string user);
}
