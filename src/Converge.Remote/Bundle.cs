using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;

namespace Converge.Remote;

/// <summary>
/// What a host receives for one run, as a tar stream: the manifest repo under <c>site/</c> (every file
/// but <c>.git</c>), Converge's shipped modules under <c>.converge/modules/N/</c>, and the host's
/// inventory vars as <c>.converge/vars.json</c>. Written straight into the SSH channel; nothing is staged on disk.
/// </summary>
public sealed class Bundle(string manifestPath, IReadOnlyList<string> moduleDirs)
{
    /// <summary>The path to pass to <c>converge apply</c>, relative to the bundle root.</summary>
    public string ApplyPath => File.Exists(manifestPath) ? "site/" + Path.GetFileName(manifestPath) : "site";

    /// <summary>How many module directories travel (the remote module path lists <c>.converge/modules/0..N-1</c>).</summary>
    public int ModuleDirCount => moduleDirs.Count;

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
}
