namespace Converge.Testing.Hosts;

/// <summary>
/// The cgroup2 subtree of one systemd host on the machine: <c>converge-host-ID</c> at the root of the
/// machine's cgroup2 hierarchy. The host's pid 1 enters it before it creates its cgroup namespace, so inside
/// the host it is <c>/</c>, and systemd builds its slices and scopes below it; the rest of the machine's
/// cgroups stay out of its reach.
/// </summary>
/// <remarks>
/// cgroup2 is <c>/sys/fs/cgroup</c> on a pure v2 machine and <c>/sys/fs/cgroup/unified</c> on a hybrid one
/// (v1 controllers plus a v2 hierarchy without controllers, Debian's layout before 11 and this project's
/// machines). A v1-only machine has no place for a v2 subtree: systemd 252 hosts need cgroup2.
/// </remarks>
internal sealed class HostCgroup
{
    private static readonly string[] Roots = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];

    private HostCgroup(string path) => Path = path;

    /// <summary>The subtree's directory on the machine.</summary>
    public string Path { get; }

    /// <summary>The machine's cgroup2 mount point (a directory with <c>cgroup.controllers</c>), or null.</summary>
    public static string? Cgroup2Root() => Roots.FirstOrDefault(r => File.Exists(System.IO.Path.Combine(r, "cgroup.controllers")));

    /// <summary>Every host subtree on the machine now (a leak when no host runs).</summary>
    public static IReadOnlyList<string> All() =>
        Cgroup2Root() is { } root ? Directory.GetDirectories(root, HostLayout.Prefix + "*").Order(StringComparer.Ordinal).ToList() : [];

    public static HostCgroup Create(HostLayout layout)
    {
        var root = Cgroup2Root() ?? throw new HostStartException(
            "a systemd host needs a cgroup2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified); this machine has cgroup v1 only");
        var path = System.IO.Path.Combine(root, HostLayout.Prefix + layout.Id);
        Directory.CreateDirectory(path);
        return new HostCgroup(path);
    }

    /// <summary>
    /// Removes the subtree, deepest cgroups first (a cgroup directory is removed with rmdir, never by deleting
    /// its files). Call only after every process in it is gone; the kernel may take a moment to release the
    /// last exiting task, so a busy cgroup is retried for up to <paramref name="timeout"/>.
    /// </summary>
    public void Delete(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (!Directory.Exists(Path)) return;
                foreach (var dir in Directory.GetDirectories(Path, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
                    Directory.Delete(dir, recursive: false);
                Directory.Delete(Path, recursive: false);
                return;
            }
            catch (DirectoryNotFoundException) { return; }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }
}
