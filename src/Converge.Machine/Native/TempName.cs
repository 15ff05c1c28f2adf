namespace Converge.Machine.Native;

/// <summary>Names for the temp entries written beside a target before they are renamed over it.</summary>
internal static class TempName
{
    // NAME_MAX is 255 bytes; the prefix, suffix and random part take 28, so long names are shortened.
    private const int MaxEmbeddedNameLength = 200;

    /// <summary>
    /// <c>&lt;dir&gt;/.&lt;name&gt;.converge-&lt;random&gt;</c>: hidden, recognisably ours, and in the same
    /// directory (so same file system) so that rename(2) is atomic.
    /// </summary>
    public static string Beside(string path)
    {
        var directory = Path.GetDirectoryName(path) ?? "/";
        var name = Path.GetFileName(path);
        if (name.Length > MaxEmbeddedNameLength) name = name[..MaxEmbeddedNameLength];
        return Path.Join(directory, $".{name}.converge-{Random.Shared.NextInt64():x16}");
    }

    /// <summary>Whether a file name has the shape <see cref="Beside"/> gives temp files.</summary>
    public static bool IsOurs(string name)
    {
        const string marker = ".converge-";
        var at = name.LastIndexOf(marker, StringComparison.Ordinal);
        if (!name.StartsWith('.') || at <= 1 || name.Length - at - marker.Length != 16) return false;
        foreach (var c in name.AsSpan(at + marker.Length))
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }
}
