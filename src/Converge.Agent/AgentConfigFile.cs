using System.Globalization;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Agent;

/// <summary>
/// The settings read from <c>agent.yaml</c>; null members were not given. Command-line flags override
/// them (docs/agent.md lists every key).
/// </summary>
public sealed record AgentConfig
{
    public string? Source { get; init; }
    public string? Branch { get; init; }
    public string? Revision { get; init; }
    public string? Path { get; init; }
    public TimeSpan? Interval { get; init; }
    public TimeSpan? Splay { get; init; }
    public bool? Noop { get; init; }
    public TimeSpan? RunTimeout { get; init; }
    public TimeSpan? LockTimeout { get; init; }
    public TimeSpan? ShutdownTimeout { get; init; }
    public TimeSpan? FetchTimeout { get; init; }
    public bool? VerifySignatures { get; init; }
    public string? Keyring { get; init; }
    public string? MetricsDir { get; init; }
    public int? KeepReports { get; init; }
    public TimeSpan? KeepAge { get; init; }
    public string? StateDir { get; init; }
    public string? Node { get; init; }
    public string? FactsDir { get; init; }

    /// <summary>The <c>notify:</c> block (webhooks, Graphite; docs/notifications.md).</summary>
    public Converge.Notify.NotifyConfig? Notify { get; init; }

    /// <summary>
    /// The <c>retention:</c> block (docs/config.md). <see cref="KeepReports"/> and <see cref="KeepAge"/>
    /// (<c>keep_reports</c>, <c>keep_days</c>) are its older spelling of <c>reports:</c> and win over it.
    /// </summary>
    public Converge.Notify.RetentionConfig? Retention { get; init; }
}

/// <summary>
/// Reads <c>agent.yaml</c> with the manifest loader, so a mistake is reported like a manifest error:
/// file:line:col, a CVG5xxx code and the source line. Every problem is collected before returning.
/// </summary>
public static class AgentConfigFile
{
    public const string UnknownKey = "CVG5001";
    public const string BadValue = "CVG5002";
    public const string Unreadable = "CVG5003";

    private static readonly string[] Keys =
    [
        "source", "branch", "revision", "path", "interval", "splay", "noop", "run_timeout", "lock_timeout",
        "shutdown_timeout", "fetch_timeout", "verify_signatures", "keyring", "metrics_dir", "keep_reports",
        "keep_days", "state_dir", "node", "facts_dir", "notify", "retention",
    ];

    /// <summary>Loads <paramref name="path"/>; returns null when any diagnostic is an error.</summary>
    public static AgentConfig? Load(string path, DiagnosticBag diagnostics)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No position: the file itself could not be read.
            diagnostics.Error(Unreadable, new SourceSpan(path, 0, 0, 0, 0), $"cannot read the agent config {path}: {e.Message}");
            return null;
        }
        var before = diagnostics.Count;
        // A YAML syntax error shows no source line: the line may be inside notify: and hold a webhook token.
        var syntax = new DiagnosticBag();
        var root = YamlLoader.Load(path, text, syntax);
        diagnostics.AddRange(syntax.Sorted().Select(d => d with { HideExcerpt = true }));
        if (root is null) return diagnostics.Count > before ? null : new AgentConfig();
        if (root is not MappingNode map)
        {
            if (root is ScalarNode { IsNull: true }) return new AgentConfig();
            diagnostics.Error(BadValue, root.Span, $"the agent config must be a map of settings; got {root.KindName}");
            return null;
        }

        var config = new AgentConfig();
        foreach (var entry in map.Entries)
        {
            var key = entry.Key.Value;
            var value = entry.Value;
            switch (key)
            {
                case "source": config = config with { Source = Text(value, key, diagnostics) }; break;
                case "branch": config = config with { Branch = Text(value, key, diagnostics) }; break;
                case "revision": config = config with { Revision = Text(value, key, diagnostics) }; break;
                case "path": config = config with { Path = Text(value, key, diagnostics) }; break;
                case "interval": config = config with { Interval = Duration(value, key, diagnostics) }; break;
                case "splay": config = config with { Splay = Duration(value, key, diagnostics) }; break;
                case "noop": config = config with { Noop = Bool(value, key, diagnostics) }; break;
                case "run_timeout": config = config with { RunTimeout = Duration(value, key, diagnostics) }; break;
                case "lock_timeout": config = config with { LockTimeout = Duration(value, key, diagnostics) }; break;
                case "shutdown_timeout": config = config with { ShutdownTimeout = Duration(value, key, diagnostics) }; break;
                case "fetch_timeout": config = config with { FetchTimeout = Duration(value, key, diagnostics) }; break;
                case "verify_signatures": config = config with { VerifySignatures = Bool(value, key, diagnostics) }; break;
                case "keyring": config = config with { Keyring = Text(value, key, diagnostics) }; break;
                case "metrics_dir": config = config with { MetricsDir = Text(value, key, diagnostics) }; break;
                case "keep_reports": config = config with { KeepReports = Count(value, key, diagnostics) }; break;
                case "keep_days":
                    config = config with { KeepAge = Count(value, key, diagnostics) is { } days ? TimeSpan.FromDays(days) : null };
                    break;
                case "state_dir": config = config with { StateDir = Text(value, key, diagnostics) }; break;
                case "node": config = config with { Node = Text(value, key, diagnostics) }; break;
                case "facts_dir": config = config with { FactsDir = Text(value, key, diagnostics) }; break;
                // The same schema and parser as converge.yaml's notify: block.
                case "notify": config = config with { Notify = Converge.Notify.NotifyConfigReader.Read(value, diagnostics) }; break;
                // The same schema and parser as converge.yaml's retention: block.
                case "retention": config = config with { Retention = Converge.Notify.RetentionConfigReader.Read(value, diagnostics) }; break;
                default:
                    var hint = Suggest.Closest(key, Keys) is { } near ? $"; did you mean '{near}'?" : $"; known keys: {string.Join(", ", Keys)}";
                    diagnostics.Error(UnknownKey, entry.Key.Span, $"unknown agent setting '{key}'{hint}");
                    break;
            }
        }
        OlderSpellingConflicts(map, diagnostics);
        return diagnostics.HasErrors ? null : config;
    }

    /// <summary>
    /// keep_reports and keep_days are the older spelling of retention.reports.keep and .max_age: both
    /// spellings at once would leave one silently ignored, so that is an error.
    /// </summary>
    private static void OlderSpellingConflicts(MappingNode map, DiagnosticBag diagnostics)
    {
        if ((map["retention"] as MappingNode)?["reports"] is not MappingNode reports) return;
        foreach (var (older, newer) in new[] { ("keep_reports", "keep"), ("keep_days", "max_age") })
        {
            if (map.Entry(older)?.Key is { } key && reports.Entry(newer) is not null)
                diagnostics.Error(BadValue, key.Span, $"{older} is the older spelling of retention.reports.{newer}, which is also given; keep only retention.reports.{newer}");
        }
    }

    private static string? Text(SyntaxNode node, string key, DiagnosticBag diagnostics)
    {
        if (node is ScalarNode { IsNull: false } s && s.Value.Trim().Length > 0) return s.Value.Trim();
        diagnostics.Error(BadValue, node.Span, $"{key} must be a non-empty string; got {node.KindName}");
        return null;
    }

    private static TimeSpan? Duration(SyntaxNode node, string key, DiagnosticBag diagnostics)
    {
        if (node is ScalarNode { IsNull: false } s && Durations.TryParse(s.Value, out var t)) return t;
        diagnostics.Error(BadValue, node.Span, $"{key} must be a duration such as 30s, 5m, 1h or 2d; got {Shown(node)}");
        return null;
    }

    private static bool? Bool(SyntaxNode node, string key, DiagnosticBag diagnostics)
    {
        if (node is ScalarNode { Quoted: false } s)
        {
            if (s.Value is "true" or "yes" or "on") return true;
            if (s.Value is "false" or "no" or "off") return false;
        }
        diagnostics.Error(BadValue, node.Span, $"{key} must be true or false; got {Shown(node)}");
        return null;
    }

    private static int? Count(SyntaxNode node, string key, DiagnosticBag diagnostics)
    {
        if (node is ScalarNode { Quoted: false } s && int.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            return n;
        diagnostics.Error(BadValue, node.Span, $"{key} must be a whole number of at least 1; got {Shown(node)}");
        return null;
    }

    private static string Shown(SyntaxNode node) => node is ScalarNode { IsNull: false } s ? $"'{s.Value}'" : node.KindName;
}
