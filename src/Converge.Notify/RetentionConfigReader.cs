using System.Globalization;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Notify;

/// <summary>
/// Reads a <c>retention:</c> block, the same schema in converge.yaml and agent.yaml. Every problem is
/// collected with its file:line:col (CVG5010 unknown key, CVG5011 bad value), as for <c>notify:</c>.
/// Settings not given keep their <see cref="RetentionConfig.Default"/>.
/// </summary>
public static class RetentionConfigReader
{
    private static readonly string[] RetentionKeys = ["reports", "bucket"];
    private static readonly string[] ReportKeys = ["keep", "max_age"];
    private static readonly string[] BucketKeys = ["versions_per_path", "max_age", "max_size"];

    /// <summary>Ten years: a longer age is a typo, not a policy.</summary>
    private static readonly TimeSpan LongestAge = TimeSpan.FromDays(3650);

    /// <summary>Reads the block's value; returns null when it held an error (the diagnostics say which).</summary>
    public static RetentionConfig? Read(SyntaxNode node, DiagnosticBag result)
    {
        var diagnostics = new DiagnosticBag();
        var config = RetentionConfig.Default;
        foreach (var (key, value) in Entries(node, "retention", "reports or bucket", diagnostics))
        {
            switch (key.Value)
            {
                case "reports":
                    foreach (var (k, v) in Entries(value, "retention.reports", "keep or max_age", diagnostics))
                    {
                        if (k.Value == "keep") { if (Count(v, "retention.reports.keep", diagnostics) is { } n) config = config with { ReportsKeep = n }; }
                        else if (k.Value == "max_age") { if (Age(v, "retention.reports.max_age", diagnostics) is { } t) config = config with { ReportsMaxAge = t }; }
                        else Unknown(k, "retention.reports", ReportKeys, diagnostics);
                    }
                    break;
                case "bucket":
                    foreach (var (k, v) in Entries(value, "retention.bucket", "versions_per_path, max_age or max_size", diagnostics))
                    {
                        switch (k.Value)
                        {
                            case "versions_per_path":
                                if (Count(v, "retention.bucket.versions_per_path", diagnostics) is { } n) config = config with { BucketVersionsPerPath = n };
                                break;
                            case "max_age":
                                if (Age(v, "retention.bucket.max_age", diagnostics) is { } t) config = config with { BucketMaxAge = t };
                                break;
                            case "max_size":
                                if (Size(v, "retention.bucket.max_size", diagnostics) is { } b) config = config with { BucketMaxSize = b };
                                break;
                            default: Unknown(k, "retention.bucket", BucketKeys, diagnostics); break;
                        }
                    }
                    break;
                default: Unknown(key, "retention", RetentionKeys, diagnostics); break;
            }
        }
        result.AddRange(diagnostics.Sorted());
        return diagnostics.HasErrors ? null : config;
    }

    /// <summary>Durations of retention: <c>12h</c>, <c>30d</c>, <c>2w</c> (or <c>90m</c>); a number needs its unit.</summary>
    public static bool TryAge(string text, out TimeSpan value)
    {
        value = default;
        var t = text.Trim();
        if (t.Length < 2) return false;
        double scale = t[^1] switch { 'm' => 60, 'h' => 3600, 'd' => 86400, 'w' => 7 * 86400, _ => 0 };
        if (scale == 0 || !double.TryParse(t[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
        var seconds = n * scale;
        if (seconds <= 0 || seconds > LongestAge.TotalSeconds) return false;
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>Sizes in binary units: <c>512MiB</c>, <c>1GiB</c>, <c>1.5GiB</c>, <c>64KiB</c>, <c>4096B</c>.</summary>
    public static bool TrySize(string text, out long bytes)
    {
        bytes = 0;
        var t = text.Trim();
        (string Suffix, double Scale)[] units = [("KiB", 1024), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1L << 40), ("B", 1)];
        foreach (var (suffix, scale) in units)
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal)) continue;
            if (!double.TryParse(t[..^suffix.Length].TrimEnd(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
            var b = n * scale;
            if (b < 1 || b > long.MaxValue / 2) return false;
            bytes = (long)b;
            return true;
        }
        return false;
    }

    private static IEnumerable<(ScalarNode Key, SyntaxNode Value)> Entries(SyntaxNode node, string what, string keys, DiagnosticBag d)
    {
        // An empty block (retention: with nothing under it) is allowed: it means the defaults.
        if (node is ScalarNode { IsNull: true }) return [];
        if (node is MappingNode map) return map.Entries.Select(e => (e.Key, e.Value));
        d.Error(NotifyConfigReader.BadValue, node.Span, $"{what} must be a map with {keys}; got {node.KindName}");
        return [];
    }

    private static void Unknown(ScalarNode key, string where, string[] known, DiagnosticBag d)
    {
        var hint = Suggest.Closest(key.Value, known) is { } near ? $"; did you mean '{near}'?" : $"; known keys: {string.Join(", ", known)}";
        d.Error(NotifyConfigReader.UnknownKey, key.Span, $"unknown {where} setting '{key.Value}'{hint}");
    }

    private static int? Count(SyntaxNode node, string what, DiagnosticBag d)
    {
        if (node is ScalarNode { Quoted: false } s && int.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            return n;
        d.Error(NotifyConfigReader.BadValue, node.Span, $"{what} must be a whole number of at least 1; got {Shown(node)}");
        return null;
    }

    private static TimeSpan? Age(SyntaxNode node, string what, DiagnosticBag d)
    {
        if (node is ScalarNode { IsNull: false } s && TryAge(s.Value, out var t)) return t;
        d.Error(NotifyConfigReader.BadValue, node.Span, $"{what} must be a duration above 0 and at most 3650d, such as 12h, 30d or 2w; got {Shown(node)}");
        return null;
    }

    private static long? Size(SyntaxNode node, string what, DiagnosticBag d)
    {
        if (node is ScalarNode { IsNull: false } s && TrySize(s.Value, out var b)) return b;
        d.Error(NotifyConfigReader.BadValue, node.Span, $"{what} must be a size above 0 in B, KiB, MiB, GiB or TiB, such as 512MiB or 1GiB; got {Shown(node)}");
        return null;
    }

    private static string Shown(SyntaxNode node) => node is ScalarNode { IsNull: false } s ? $"'{s.Value}'" : node.KindName;
}
