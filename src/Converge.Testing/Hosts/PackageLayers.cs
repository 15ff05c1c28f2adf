using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Converge.Testing.Hosts;

/// <summary>
/// Prepared base layers for <see cref="HostOptions.Packages"/>: the overlay upper directory of a host in
/// which <see cref="DebCache.InstallAsync"/> installed a package set, kept so that later hosts start with
/// those packages by copying it into their own upper directory (~50 ms instead of ~5 s of apt and dpkg).
/// </summary>
/// <remarks>
/// A layer is only valid on top of the machine it was built from: its dpkg database, user database and
/// maintainer-script results are copies of the machine's files as they were. So each layer is named by
/// its package set and a hash of everything it was derived from (<see cref="Key"/>); when any of that
/// changes the name changes, a new layer is built, and the set's older layers are deleted.
/// Layers live next to the <c>.deb</c> files in <c>DebCache.Root/layers</c>, which the suite already
/// keeps between runs. Copying a layer into a second lowerdir is not an option: the kernel refuses a
/// lower layer that lives on the <c>/</c> it is stacked with ("overlapping lowerdir path").
/// </remarks>
internal sealed partial class PackageLayers(string root)
{
    // Part of every key: bump it when what a layer holds or how it is built changes, so old layers stop matching.
    private const string Format = "1";

    // Machine files a layer is derived from (the dpkg database and the users maintainer scripts add to).
    private static readonly string[] MachineInputs =
    [
        "/var/lib/dpkg/status", "/var/lib/dpkg/diversions", "/var/lib/dpkg/statoverride",
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
        // Overlayfs metadata in the layer (whiteouts, opaque and origin xattrs) was written by this kernel.
        "/proc/sys/kernel/osrelease",
    ];

    // One resolution per package set and process: hosts that need the same layer at once wait for one build.
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _resolved = new();

    // Layers this store built, per set: the fixture's tests check that concurrent requests build a set once.
    private readonly ConcurrentDictionary<string, int> _built = new();

    /// <summary>The store hosts use: <c>layers/</c> beside the cached <c>.deb</c> files.</summary>
    public static PackageLayers Shared { get; } = new(Path.Combine(DebCache.Root, "layers"));

    /// <summary>The directory holding this store's layers, one subdirectory per layer.</summary>
    public string Root => root;

    /// <summary>Synchronous <see cref="GetAsync"/>, for <see cref="ThrowawayHost.Start"/>.</summary>
    public string Get(IReadOnlyList<string> packages) =>
        // Task.Run: the build awaits processes; blocking on it from a test's synchronization context could deadlock.
        Task.Run(() => GetAsync(packages)).GetAwaiter().GetResult();

    /// <summary>
    /// The layer directory with <paramref name="packages"/> installed, building it the first time (fetching
    /// the <c>.deb</c> files if needed). Throws with apt's message when a package cannot be fetched or installed.
    /// </summary>
    public async Task<string> GetAsync(IReadOnlyList<string> packages)
    {
        var names = Normalize(packages);
        var set = string.Join('+', names);
        for (var attempt = 0; ; attempt++)
        {
            var entry = _resolved.GetOrAdd(set, _ => new Lazy<Task<string>>(() => ResolveAsync(names)));
            var dir = await entry.Value;
            // Gone since this process resolved it (a newer build elsewhere pruned it): resolve again, once.
            if (Directory.Exists(dir) || attempt > 0) return dir;
            _resolved.TryRemove(KeyValuePair.Create(set, entry));
        }
    }

    /// <summary>How many times this store built the layer of <paramref name="set"/> (names joined by <c>+</c>, sorted).</summary>
    public int BuildsOf(string set) => _built.GetValueOrDefault(set);

    /// <summary>
    /// The name of a set's layer: the set, then 16 hex digits of a SHA-256 over the layer format, the
    /// package set, the exact <c>.deb</c> files fetched for it, and <see cref="MachineInputs"/>.
    /// </summary>
    internal static string Key(string[] names, string debDirectory, string machineRoot = "/")
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string label, byte[] data)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{label}\n{data.Length}\n"));
            hash.AppendData(data);
        }
        Add("format", Encoding.UTF8.GetBytes(Format));
        Add("packages", Encoding.UTF8.GetBytes(string.Join('\n', names)));
        Add("debs", File.ReadAllBytes(Path.Combine(debDirectory, ".complete")));
        foreach (var file in MachineInputs)
        {
            var path = Path.Join(machineRoot, file);   // machineRoot: the fixture's tests vary these inputs
            Add(file, File.Exists(path) ? File.ReadAllBytes(path) : []);
        }
        return string.Join('+', names) + "-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private async Task<string> ResolveAsync(string[] names)
    {
        var debs = await DebCache.FetchAsync(names);
        var dir = Path.Combine(Root, Key(names, debs));
        // Complete or absent: a layer appears by one rename once its host has stopped.
        if (Directory.Exists(dir)) return dir;
        Directory.CreateDirectory(Root);
        _built.AddOrUpdate(string.Join('+', names), 1, (_, n) => n + 1);
        var host = ThrowawayHost.Start(new HostOptions { Hostname = "converge-layer", MountConverge = false });
        try
        {
            await DebCache.InstallAsync(host, names);
            // Stop first, then move: the kernel guarantees nothing in the host writes to the upper dir any more.
            // If another process published the same layer meanwhile, the move is skipped and ours is deleted.
            host.KeepUpperAfterTeardown(dir);
        }
        finally
        {
            await host.DisposeAsync();
        }
        if (!Directory.Exists(dir)) throw new InvalidOperationException($"layer {dir} was not kept after its host stopped");
        Prune(string.Join('+', names), dir);
        return dir;
    }

    // Older layers of the same set were built from a machine that has changed since.
    private void Prune(string set, string keep)
    {
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(dir);
            if (dir == keep || !name.StartsWith(set + "-", StringComparison.Ordinal) || !KeySuffix().IsMatch(name[(set.Length + 1)..]))
                continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { } // another process prunes it too
        }
    }

    private static string[] Normalize(IReadOnlyList<string> packages)
    {
        if (packages.Count == 0) throw new ArgumentException("no packages", nameof(packages));
        foreach (var p in packages)
            if (!PackageName().IsMatch(p))
                throw new ArgumentException($"not a Debian package name: \"{p}\" (lower-case letters, digits, + - .; at least two characters)", nameof(packages));
        return packages.Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+$")]
    private static partial Regex PackageName();

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex KeySuffix();
}
