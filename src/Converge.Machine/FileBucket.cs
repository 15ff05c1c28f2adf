using System.Security.Cryptography;
using Converge.Machine.Native;

namespace Converge.Machine;

/// <summary>
/// A content-addressed store on disk: each content lives at <c>&lt;dir&gt;/&lt;sha[0..2]&gt;/&lt;sha&gt;</c>,
/// written atomically, files 0600 and directories 0700 (backups can hold secrets). Directories are
/// created on first use. Thread-safe and safe between processes: concurrent stores of one content
/// both succeed and leave one copy.
/// </summary>
public sealed class FileBucket : IBucket
{
    private static readonly FileAttributes PrivateDirectory = new(new UnixMode(0x1C0)); // 0700
    private static readonly FileAttributes PrivateFile = new(new UnixMode(0x180));      // 0600
    private readonly string _directory;
    private readonly LocalSystem _system = new();

    /// <summary>A bucket rooted at <paramref name="directory"/> (need not exist yet).</summary>
    public FileBucket(string directory) => _directory = Path.GetFullPath(directory);

    /// <summary>The run whose stores are indexed (its index file is <c>index/RUNID.jsonl</c>); null: stores are not indexed.</summary>
    public string? RunId { get; init; }

    /// <summary>The clock of index entries (tests pass a fixed one).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The bucket's root directory.</summary>
    public string Directory => _directory;

    /// <inheritdoc />
    /// <remarks>
    /// Content already stored is not written again, but the store is still indexed: the run that
    /// replaced the content needs it as much as the run that first stored it (undo looks by run).
    /// </remarks>
    public string Store(ReadOnlySpan<byte> content, string? path = null, bool sensitive = false)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var blob = PathOf(sha);
        if (_system.Stat(blob) is not { Kind: FileKind.File } st || st.Size != content.Length)
        {
            EnsureDirectory(_directory, createParents: true);
            EnsureDirectory(Path.GetDirectoryName(blob)!, createParents: false);
            _system.WriteFileAtomic(blob, content, PrivateFile);
        }
        if (path is not null && RunId is { } runId)
            BucketIndex.Append(_directory, new BucketEntry(path, sha, content.Length, Clock.GetUtcNow(), runId, sensitive), EnsureDirectory);
        return sha;
    }

    /// <summary>Where the content with this hash lives (whether or not it is there).</summary>
    public string PathOf(string sha) => Path.Join(_directory, sha[..2], sha);

    /// <inheritdoc />
    /// <remarks>Returns null, too, for a string that is not a sha256 in lowercase hex.</remarks>
    public byte[]? Load(string sha256)
    {
        if (!IsSha256(sha256)) return null;
        try
        {
            return _system.ReadAllBytes(PathOf(sha256));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private void EnsureDirectory(string path, bool createParents)
    {
        if (_system.Stat(path) is { Kind: FileKind.Directory }) return;
        if (createParents)
        {
            var parent = Path.GetDirectoryName(path);
            if (parent is not null) System.IO.Directory.CreateDirectory(parent);
        }
        try
        {
            _system.CreateDirectory(path, PrivateDirectory);
        }
        catch (IOException e) when (e.HResult == LibC.EEXIST && _system.Stat(path) is { Kind: FileKind.Directory })
        {
            // Another store created it first.
        }
    }

    /// <summary>True for a lowercase hex sha256 (64 characters).</summary>
    public static bool IsSha256(string text) =>
        text.Length == 64 && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
