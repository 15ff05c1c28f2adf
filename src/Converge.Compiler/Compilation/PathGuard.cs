using System.Runtime.InteropServices;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Keeps <c>template</c> and <c>source</c> names inside their directory: no absolute names, no
/// <c>..</c> climbing out, and no symlink that points outside (checked on the real path).
/// </summary>
internal static partial class PathGuard
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

    /// <summary>realpath(3): the canonical path with every symlink resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var p = realpath(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { free(p); }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc")]
    private static partial void free(IntPtr p);
}
