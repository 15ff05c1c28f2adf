using System.Text;

namespace Converge.Providers.Cron;

/// <summary>
/// The pure edit of a crontab: find this job's block by its marker, replace or remove it, or append a
/// new one; every other line stays as it is. A block is the marker, the NAME=value lines right after
/// it, and the one job line after those.
/// </summary>
public static class CronText
{
    /// <summary>The marker comment line for a job named <paramref name="name"/>.</summary>
    public static string Marker(string name) => $"# converge: cron[{name}]";

    /// <summary>
    /// The crontab with the block for <paramref name="marker"/> replaced by <paramref name="block"/>
    /// (null: removed). Always ends with a newline, because cron ignores a last line without one.
    /// </summary>
    public static string Edit(string? content, string marker, IReadOnlyList<string>? block)
    {
        var lines = Lines(content ?? "");
        var (start, count) = Find(lines, marker);
        if (start >= 0)
        {
            lines.RemoveRange(start, count);
            if (block is not null) lines.InsertRange(start, block);
        }
        else if (block is not null)
        {
            lines.AddRange(block);
        }
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line).Append('\n');
        return text.ToString();
    }

    /// <summary>The block's lines as they are now, or null when the marker is not there.</summary>
    public static IReadOnlyList<string>? Current(string? content, string marker)
    {
        var lines = Lines(content ?? "");
        var (start, count) = Find(lines, marker);
        return start < 0 ? null : lines.GetRange(start, count);
    }

    private static (int Start, int Count) Find(List<string> lines, string marker)
    {
        var start = lines.IndexOf(marker);
        if (start < 0) return (-1, 0);
        var end = start + 1;
        while (end < lines.Count && IsEnvironment(lines[end])) end++;
        // The job line, unless the block was cut short (another marker, a comment or a blank line).
        if (end < lines.Count && lines[end].Trim().Length > 0 && !lines[end].TrimStart().StartsWith('#')) end++;
        return (start, end - start);
    }

    /// <summary>A NAME=value line, as cron reads them (letters, digits and _ before the =).</summary>
    public static bool IsEnvironment(string line)
    {
        var text = line.TrimStart();
        var eq = text.IndexOf('=');
        return eq > 0 && IsName(text[..eq].TrimEnd());
    }

    /// <summary>True for a valid environment variable name.</summary>
    public static bool IsName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static List<string> Lines(string content)
    {
        var lines = content.Split('\n').ToList();
        if (lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
