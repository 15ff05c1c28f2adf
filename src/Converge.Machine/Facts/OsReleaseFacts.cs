using System.Text;
using System.Text.Json.Nodes;

namespace Converge.Machine.Facts;

/// <summary>The <c>os</c> fact from os-release(5).</summary>
internal static class OsReleaseFacts
{
    /// <summary><c>{id, version, version_id, family, codename, name}</c>; members are null when unknown.</summary>
    public static JsonObject Read(FactOptions options)
    {
        var text = HostFiles.ReadText(options.PathOf("etc/os-release")) ?? HostFiles.ReadText(options.PathOf("usr/lib/os-release")) ?? "";
        var values = Parse(text);
        var id = values.GetValueOrDefault("ID");
        return new JsonObject
        {
            ["id"] = id,
            ["version"] = values.GetValueOrDefault("VERSION"),
            ["version_id"] = values.GetValueOrDefault("VERSION_ID"),
            ["family"] = Family(id, values.GetValueOrDefault("ID_LIKE")),
            ["codename"] = values.GetValueOrDefault("VERSION_CODENAME") ?? values.GetValueOrDefault("UBUNTU_CODENAME"),
            ["name"] = values.GetValueOrDefault("NAME"),
        };
    }

    /// <summary>
    /// The family picks providers (<c>package</c> is apt on the debian family), so derivatives map to
    /// their parent through ID_LIKE: ubuntu says <c>ID_LIKE=debian</c>, rocky says <c>"rhel centos fedora"</c>.
    /// </summary>
    public static string? Family(string? id, string? idLike)
    {
        if (id is null) return null;
        string[] ids = [id, .. (idLike ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (ids.Contains("debian")) return "debian";
        if (ids.Any(i => i is "rhel" or "fedora" or "centos")) return "redhat";
        if (ids.Any(i => i.StartsWith("suse", StringComparison.Ordinal) || i.StartsWith("opensuse", StringComparison.Ordinal))) return "suse";
        if (ids.Contains("arch")) return "arch";
        return id;
    }

    /// <summary>Shell-style KEY=value lines; values may be single- or double-quoted, with \ escapes in double quotes.</summary>
    public static Dictionary<string, string> Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var eq = line.IndexOf('=');
            if (eq <= 0) continue;
            values[line[..eq]] = Unquote(line[(eq + 1)..]);
        }
        return values;
    }

    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'') return value[1..^1];
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"') return value;
        var inner = value.AsSpan(1, value.Length - 2);
        var result = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '\\' && i + 1 < inner.Length) i++;
            result.Append(inner[i]);
        }
        return result.ToString();
    }
}
