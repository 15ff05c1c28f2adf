using System.Globalization;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Notify;

/// <summary>
/// Reads a <c>notify:</c> block: the same schema in the agent's <c>agent.yaml</c> and the command line's
/// <c>converge.yaml</c>. Every problem is collected with its file:line:col (CVG5010 unknown key, CVG5011
/// bad value). No diagnostic shows the source line or echoes a URL or header: those lines may hold tokens.
/// </summary>
public static class NotifyConfigReader
{
    public const string UnknownKey = "CVG5010";
    public const string BadValue = "CVG5011";

    private static readonly string[] NotifyKeys = ["webhooks", "graphite", "deadline"];
    private static readonly string[] WebhookKeys = ["url", "format", "on", "noop", "headers", "link", "timeout", "retries"];
    private static readonly string[] GraphiteKeys = ["host", "port", "prefix", "timeout", "noop"];

    /// <summary>Reads the block's value; returns null when it held an error (the diagnostics say which).</summary>
    public static NotifyConfig? Read(SyntaxNode node, DiagnosticBag diagnostics)
    {
        var bag = new DiagnosticBag();
        var config = ReadMap(node, bag);
        // Never an excerpt: a line of this block may hold a webhook token or an Authorization header.
        diagnostics.AddRange(bag.Sorted().Select(d => d with { HideExcerpt = true }));
        return bag.HasErrors ? null : config;
    }

    private static NotifyConfig ReadMap(SyntaxNode node, DiagnosticBag d)
    {
        if (node is ScalarNode { IsNull: true }) return NotifyConfig.Empty;
        if (node is not MappingNode map)
        {
            d.Error(BadValue, node.Span, $"notify must be a map with webhooks, graphite or deadline; got {node.KindName}");
            return NotifyConfig.Empty;
        }
        var config = new NotifyConfig();
        foreach (var (keyNode, value) in map.Entries.Select(e => (e.Key, e.Value)))
        {
            switch (keyNode.Value)
            {
                case "deadline":
                    if (Duration(value, "notify.deadline", d, max: TimeSpan.FromMinutes(5)) is { } t) config = config with { Deadline = t };
                    break;
                case "webhooks":
                    if (value is SequenceNode list)
                        config = config with { Webhooks = list.Items.Select((item, i) => Webhook(item, i + 1, d)).OfType<WebhookConfig>().ToList() };
                    else d.Error(BadValue, value.Span, $"notify.webhooks must be a list of webhooks (each with a url); got {value.KindName}");
                    break;
                case "graphite": config = config with { Graphite = Graphite(value, d) }; break;
                default: Unknown(keyNode, "notify", NotifyKeys, d); break;
            }
        }
        return config;
    }

    private static WebhookConfig? Webhook(SyntaxNode node, int index, DiagnosticBag d)
    {
        var what = $"notify.webhooks[{index}]";
        if (node is not MappingNode map)
        {
            d.Error(BadValue, node.Span, $"{what} must be a map with at least a url; got {node.KindName}");
            return null;
        }
        Uri? url = null;
        var hook = new WebhookConfig { Url = new Uri("http://unset/") };
        foreach (var entry in map.Entries)
        {
            var value = entry.Value;
            switch (entry.Key.Value)
            {
                case "url":
                    // The URL is not echoed: a Slack or Mattermost hook URL is itself the token.
                    if (value is ScalarNode { IsNull: false } s && Uri.TryCreate(s.Value.Trim(), UriKind.Absolute, out var u)
                        && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && u.Host.Length > 0)
                        url = u;
                    else d.Error(BadValue, value.Span, $"{what}.url must be an absolute http:// or https:// URL (the value is not shown: it may hold a token)");
                    break;
                case "format":
                    if (value is ScalarNode { Value: "json" }) hook = hook with { Format = WebhookFormat.Json };
                    else if (value is ScalarNode { Value: "slack" or "mattermost" }) hook = hook with { Format = WebhookFormat.Slack };
                    else d.Error(BadValue, value.Span, $"{what}.format must be json or slack; got {Shown(value)}");
                    break;
                case "on": hook = hook with { On = On(value, what, d) }; break;
                case "noop": if (Bool(value, $"{what}.noop", d) is { } n) hook = hook with { Noop = n }; break;
                case "headers":
                    if (Headers(value, what, d) is { } h) hook = hook with { Headers = h };
                    break;
                case "link":
                    if (value is ScalarNode { IsNull: false } l && l.Value.Trim().Length > 0) hook = hook with { Link = l.Value.Trim() };
                    else d.Error(BadValue, value.Span, $"{what}.link must be a URL template such as https://git.example.com/ops/compare/{{{{old}}}}...{{{{new}}}}; got {(value is ScalarNode { IsNull: false } ? "an empty string" : value.KindName)}");
                    break;
                case "timeout":
                    if (Duration(value, $"{what}.timeout", d, max: TimeSpan.FromMinutes(1)) is { } t) hook = hook with { Timeout = t };
                    break;
                case "retries":
                    if (value is ScalarNode { Quoted: false } r && int.TryParse(r.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n2) && n2 <= 10)
                        hook = hook with { Retries = n2 };
                    else d.Error(BadValue, value.Span, $"{what}.retries must be a whole number from 0 to 10; got {Shown(value)}");
                    break;
                default: Unknown(entry.Key, what, WebhookKeys, d); break;
            }
        }
        if (url is null)
        {
            if (map["url"] is null) d.Error(BadValue, map.Span, $"{what} needs a url");
            return null;
        }
        return hook with { Url = url };
    }

    private static NotifyOn On(SyntaxNode node, string what, DiagnosticBag d)
    {
        var items = node switch
        {
            SequenceNode seq => seq.Items,
            ScalarNode { IsNull: false } s => [s],
            _ => [],
        };
        if (items.Count == 0)
        {
            d.Error(BadValue, node.Span, $"{what}.on must list changes, failures or both; got {node.KindName}");
            return NotifyOn.None;
        }
        var on = NotifyOn.None;
        foreach (var item in items)
        {
            if (item is ScalarNode { Value: "changes" }) on |= NotifyOn.Changes;
            else if (item is ScalarNode { Value: "failures" }) on |= NotifyOn.Failures;
            else d.Error(BadValue, item.Span, $"{what}.on: each entry must be changes or failures; got {Shown(item)}");
        }
        return on;
    }

    private static Dictionary<string, string>? Headers(SyntaxNode node, string what, DiagnosticBag d)
    {
        if (node is not MappingNode map)
        {
            d.Error(BadValue, node.Span, $"{what}.headers must be a map of header names to values; got {node.KindName}");
            return null;
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in map.Entries)
        {
            var name = entry.Key.Value;
            if (name.Length == 0 || !name.All(c => c > ' ' && c < 127 && c != ':'))
                d.Error(BadValue, entry.Key.Span, $"{what}.headers: '{name}' is not a header name");
            // Header values are not echoed: Authorization and API-key headers are secrets.
            else if (entry.Value is not ScalarNode { IsNull: false } v || v.Value.Contains('\n') || v.Value.Contains('\r'))
                d.Error(BadValue, entry.Value.Span, $"{what}.headers.{name} must be a one-line string (the value is not shown)");
            else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                d.Error(BadValue, entry.Key.Span, $"{what}.headers: {name} is set by converge (the body is JSON)");
            else headers[name] = v.Value;
        }
        return headers;
    }

    private static GraphiteConfig? Graphite(SyntaxNode node, DiagnosticBag d)
    {
        if (node is not MappingNode map)
        {
            d.Error(BadValue, node.Span, $"notify.graphite must be a map with at least a host; got {node.KindName}");
            return null;
        }
        string? host = null;
        var g = new GraphiteConfig { Host = "" };
        foreach (var entry in map.Entries)
        {
            var value = entry.Value;
            switch (entry.Key.Value)
            {
                case "host":
                    if (value is ScalarNode { IsNull: false } h && h.Value.Trim().Length > 0 && !h.Value.Trim().Any(char.IsWhiteSpace)) host = h.Value.Trim();
                    else d.Error(BadValue, value.Span, $"notify.graphite.host must be a host name or address; got {Shown(value)}");
                    break;
                case "port":
                    if (value is ScalarNode { Quoted: false } p && int.TryParse(p.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
                        g = g with { Port = port };
                    else d.Error(BadValue, value.Span, $"notify.graphite.port must be a port number from 1 to 65535; got {Shown(value)}");
                    break;
                case "prefix":
                    if (value is ScalarNode { IsNull: false } px && GraphitePath.IsValidPrefix(px.Value.Trim())) g = g with { Prefix = px.Value.Trim() };
                    else d.Error(BadValue, value.Span, $"notify.graphite.prefix must be dot-separated words of letters, digits, '_' or '-' (such as converge or ops.converge); got {Shown(value)}");
                    break;
                case "timeout":
                    if (Duration(value, "notify.graphite.timeout", d, max: TimeSpan.FromMinutes(1)) is { } t) g = g with { Timeout = t };
                    break;
                case "noop": if (Bool(value, "notify.graphite.noop", d) is { } n) g = g with { Noop = n }; break;
                default: Unknown(entry.Key, "notify.graphite", GraphiteKeys, d); break;
            }
        }
        if (host is null)
        {
            if (map["host"] is null) d.Error(BadValue, map.Span, "notify.graphite needs a host (such as 127.0.0.1 or graphite.example.com)");
            return null;
        }
        return g with { Host = host };
    }

    private static void Unknown(ScalarNode key, string where, string[] known, DiagnosticBag d)
    {
        var hint = Suggest.Closest(key.Value, known) is { } near ? $"; did you mean '{near}'?" : $"; known keys: {string.Join(", ", known)}";
        d.Error(UnknownKey, key.Span, $"unknown {where} setting '{key.Value}'{hint}");
    }

    private static TimeSpan? Duration(SyntaxNode node, string what, DiagnosticBag d, TimeSpan max)
    {
        if (node is ScalarNode { IsNull: false } s && TryDuration(s.Value, out var t) && t > TimeSpan.Zero && t <= max) return t;
        d.Error(BadValue, node.Span, $"{what} must be a duration above 0 and at most {max.TotalSeconds:0} s, such as 500ms, 2s or 1m; got {Shown(node)}");
        return null;
    }

    /// <summary>Durations in the units a network bound needs: <c>500ms</c>, <c>2s</c>, <c>1m</c>, or plain seconds.</summary>
    public static bool TryDuration(string text, out TimeSpan value)
    {
        value = default;
        var t = text.Trim();
        var (number, scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1.0)
            : t.EndsWith('m') ? (t[..^1], 60.0)
            : (t, 1.0);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    private static bool? Bool(SyntaxNode node, string what, DiagnosticBag d)
    {
        if (node is ScalarNode { Quoted: false } s)
        {
            if (s.Value is "true" or "yes" or "on") return true;
            if (s.Value is "false" or "no" or "off") return false;
        }
        d.Error(BadValue, node.Span, $"{what} must be true or false; got {Shown(node)}");
        return null;
    }

    private static string Shown(SyntaxNode node) => node is ScalarNode { IsNull: false } s ? $"'{s.Value}'" : node.KindName;
}
