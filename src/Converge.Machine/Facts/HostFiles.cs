namespace Converge.Machine.Facts;

/// <summary>Reads small system files for facts; a file that is missing or unreadable reads as null.</summary>
internal static class HostFiles
{
    public static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The first line, trimmed; null when missing or blank.</summary>
    public static string? ReadLine(string path)
    {
        var text = ReadText(path);
        if (text is null) return null;
        var end = text.IndexOf('\n');
        var line = (end < 0 ? text : text[..end]).Trim();
        return line.Length == 0 ? null : line;
    }
}
