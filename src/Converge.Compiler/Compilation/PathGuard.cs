namespace Converge.Compiler.Compilation;

/// <summary>
/// Keeps <c>template</c> and <c>source</c> names inside their directory: no absolute names, no
/// <c>..</c> climbing out, and no symlink that points outside (checked on the real path).
/// </summary>
internal static class PathGuard
{
    /// <summary>The outcome of confining a name to a directory.</summary>
    public enum Outcome { Inside, Escapes, Missing }

    /// <summary>
    /// Resolves <paramref name="name"/> under <paramref name="directory"/>. Returns the absolute path
    /// (not symlink-resolved, so messages show what the user wrote) and whether it stays inside.
    /// </summary>
    public static Outcome Confine(string directory, string name, out string fullPath)
    {
        fullPath = "";
        if (name.Length == 0 || Path.IsPathRooted(name)) return Outcome.Escapes;
        if (name.Contains('\0')) return Outcome.Escapes; // GetFullPath would throw; no real file has it
        var root = Path.GetFullPath(directory);
        fullPath = Path.GetFullPath(Path.Combine(root, name));
        if (!IsUnder(fullPath, root)) return Outcome.Escapes;
        if (!File.Exists(fullPath) && !Directory.Exists(fullPath)) return Outcome.Missing;
        // A symlink inside the directory may point anywhere; compare real paths.
        var realRoot = RealPath(root) ?? root;
        var real = RealPath(fullPath);
        if (real is null) return Outcome.Missing;
        return IsUnder(real, realRoot) ? Outcome.Inside : Outcome.Escapes;
    }

    private static bool IsUnder(string path, string root)
        => path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>
    /// Like realpath(3): the absolute path with every symlink resolved (component by component, so a
    /// link in a parent directory counts too), or null when it does not exist or links loop. Managed,
    /// because "libc" does not name the same library on every Linux the agent runs on.
    /// </summary>
    public static string? RealPath(string path)
    {
        var pending = new List<string>(Split(Path.GetFullPath(path)));
        var current = "/";
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending[0];
            pending.RemoveAt(0);
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            var candidate = current == "/" ? "/" + part : current + "/" + part;
            FileSystemInfo info = new FileInfo(candidate);
            if (!info.Exists && !Directory.Exists(candidate)) return null;
            if (info.LinkTarget is { } target)
            {
                if (++hops > 40) return null;
                if (Path.IsPathRooted(target)) current = "/";
                pending.InsertRange(0, Split(target));
                continue;
            }
            current = candidate;
        }
        return current;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
