using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;

namespace Converge.Remote;

/// <summary>
/// What a host receives for one run, as a tar stream: the manifest repo under <c>site/</c> (every file
/// but <c>.git</c>), Converge's shipped modules under <c>.converge/modules/N/</c>, and the host's
/// inventory vars as <c>.converge/vars.json</c>. Written straight into the SSH channel; nothing is staged on disk.
/// </summary>
/// <remarks>
/// The host reads exactly <see cref="MeasureAsync"/> bytes of it (<c>head -c</c>), so that the same
/// standard input can carry the interrupt line afterwards (see <see cref="RemoteScripts.Apply"/>).
/// </remarks>
public sealed class Bundle(string manifestPath, IReadOnlyList<string> moduleDirs)
{
    /// <summary>The path to pass to <c>converge apply</c>, relative to the bundle root.</summary>
    public string ApplyPath => File.Exists(manifestPath) ? "site/" + Path.GetFileName(manifestPath) : "site";

    /// <summary>How many module directories travel (the remote module path lists <c>.converge/modules/0..N-1</c>).</summary>
    public int ModuleDirCount => moduleDirs.Count;

    /// <summary>
    /// The bundle's length for <paramref name="vars"/>: the tar is written once into a counter (files are
    /// read twice rather than held in memory, which a repo with large files could not afford).
    /// </summary>
    public async Task<long> MeasureAsync(JsonObject vars, CancellationToken ct)
    {
        var counter = new CountingStream();
        await WriteAsync(counter, vars, ct);
        return counter.Length;
    }

    /// <summary>
    /// Writes exactly <paramref name="length"/> bytes (from <see cref="MeasureAsync"/>): a bundle that
    /// came out shorter (a file shrank in between) is padded with zero bytes, which tar reads as the
    /// end of the archive; one that came out longer (a file grew) is refused rather than cut short.
    /// </summary>
    public async Task WriteExactAsync(Stream output, JsonObject vars, long length, CancellationToken ct)
    {
        var exact = new LimitedStream(output, length);
        await WriteAsync(exact, vars, ct);
        var padding = new byte[16384];
        for (var left = length - exact.Written; left > 0; left -= Math.Min(left, padding.Length))
            await output.WriteAsync(padding.AsMemory(0, (int)Math.Min(left, padding.Length)), ct);
    }

    /// <summary>Writes the bundle for a host whose vars are <paramref name="vars"/>.</summary>
    public async Task WriteAsync(Stream output, JsonObject vars, CancellationToken ct)
    {
        await using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        if (File.Exists(manifestPath))
        {
            await AddDirectoryEntry(tar, "site/", ct);
            await tar.WriteEntryAsync(manifestPath, "site/" + Path.GetFileName(manifestPath), ct);
        }
        else await AddTree(tar, Path.GetFullPath(manifestPath), "site", ct);
        for (var i = 0; i < moduleDirs.Count; i++)
            await AddTree(tar, moduleDirs[i], $".converge/modules/{i}", ct);
        var json = Encoding.UTF8.GetBytes(vars.ToJsonString());
        var entry = new PaxTarEntry(TarEntryType.RegularFile, ".converge/vars.json")
        {
            DataStream = new MemoryStream(json),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        await tar.WriteEntryAsync(entry, ct);
    }

    private static async Task AddDirectoryEntry(TarWriter tar, string name, CancellationToken ct) =>
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, name)
        {
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
        }, ct);

    private static async Task AddTree(TarWriter tar, string root, string prefix, CancellationToken ct)
    {
        await AddDirectoryEntry(tar, prefix + "/", ct);
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            // Sorted, so the same repo gives the same bundle bytes.
            foreach (var path in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (name == ".git") continue;
                var relative = prefix + "/" + Path.GetRelativePath(root, path).Replace('\\', '/');
                var info = new FileInfo(path);
                if (info.LinkTarget is not null || info.Attributes.HasFlag(FileAttributes.ReparsePoint))
                    await tar.WriteEntryAsync(path, relative, ct); // a symlink travels as a symlink
                else if (Directory.Exists(path))
                {
                    await tar.WriteEntryAsync(path, relative + "/", ct);
                    pending.Push(path);
                }
                else if (File.Exists(path))
                    await tar.WriteEntryAsync(path, relative, ct);
                // sockets, fifos and devices have no place in a manifest repo: skipped
            }
        }
    }

    /// <summary>A write-only stream that only counts.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Passes writes through up to a limit; a write beyond it fails the bundle.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }

        private void Count(int n)
        {
            if (Written + n > limit)
                throw new RemoteException(HostStatus.Failed, "the manifest repo changed while it was being sent (the bundle grew); nothing was run; run again");
            Written += n;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Count(buffer.Length);
            inner.Write(buffer);
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Count(buffer.Length);
            await inner.WriteAsync(buffer, ct);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
