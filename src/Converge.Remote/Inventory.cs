using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Remote;

/// <summary>One host to converge: where to connect, as whom, and the vars its manifests see.</summary>
/// <param name="Name">The inventory name; also the node name the manifests are compiled for (null node for ad-hoc targets: the host's own name).</param>
/// <param name="Address">Host name or IP address to connect to.</param>
/// <param name="Vars">Defaults' vars, then each group's in the order listed, then the host's own; later wins.</param>
public sealed record InventoryHost(
    string Name,
    string Address,
    int Port,
    string User,
    string? IdentityFile,
    bool Become,
    IReadOnlyList<string> Groups,
    JsonObject Vars)
{
    /// <summary>The node name passed to the remote compile: the inventory name, or null for an ad-hoc target.</summary>
    public string? Node { get; init; }

    /// <summary>Where the host is, for messages: <c>user@address:port</c>.</summary>
    public string Endpoint => $"{User}@{(Address.Contains(':') ? $"[{Address}]" : Address)}:{Port}";
}

/// <summary>
/// The fleet: hosts from an inventory YAML file and/or ad-hoc <c>[user@]host[:port]</c> targets.
/// Parsing reads no host and touches nothing; every error carries file:line:col.
/// </summary>
public static class Inventory
{
    private static readonly string[] HostKeys = ["address", "port", "user", "identity", "become", "groups", "vars"];
    private static readonly string[] DefaultKeys = ["port", "user", "identity", "become", "vars"];
    private static readonly string[] TopKeys = ["defaults", "groups", "hosts"];

    /// <summary>Connection settings used when neither the inventory nor the host says otherwise.</summary>
    public sealed record Fallback(string User, int Port = 22, string? IdentityFile = null, bool Become = false);

    /// <summary>
    /// Parses inventory <paramref name="text"/> read from <paramref name="path"/> (relative identity
    /// files are resolved against the file's directory). Returns the hosts in file order, or an empty
    /// list with errors in <paramref name="diagnostics"/>.
    /// </summary>
    public static IReadOnlyList<InventoryHost> Parse(string path, string text, Fallback fallback, DiagnosticBag diagnostics)
    {
        var root = YamlLoader.Load(path, text, diagnostics);
        if (root is null) return [];
        if (root is not MappingNode top)
        {
            diagnostics.Error("CVG6001", root.Span, $"an inventory is a map with 'hosts' (and optionally 'defaults' and 'groups'); got {root.KindName}");
            return [];
        }
        CheckKeys(top, TopKeys, "inventory", diagnostics);
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;

        var defaults = new JsonObject();
        var user = fallback.User;
        var port = fallback.Port;
        var identity = fallback.IdentityFile;
        var become = fallback.Become;
        if (top["defaults"] is { } d)
        {
            if (d is MappingNode dm)
            {
                CheckKeys(dm, DefaultKeys, "defaults", diagnostics);
                user = ReadString(dm, "user", diagnostics) ?? user;
                port = ReadPort(dm, diagnostics) ?? port;
                identity = ReadPath(dm, "identity", baseDir, diagnostics) ?? identity;
                become = ReadBool(dm, "become", diagnostics) ?? become;
                defaults = ReadVars(dm, diagnostics);
            }
            else diagnostics.Error("CVG6001", d.Span, $"'defaults' must be a map; got {d.KindName}");
        }

        var groupVars = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (top["groups"] is { } g)
        {
            if (g is MappingNode gm)
            {
                foreach (var entry in gm.Entries)
                {
                    if (entry.Value is ScalarNode { IsNull: true }) { groupVars[entry.Key.Value] = new JsonObject(); continue; }
                    if (entry.Value is not MappingNode group)
                    {
                        diagnostics.Error("CVG6001", entry.Value.Span, $"group '{entry.Key.Value}' must be a map (with 'vars'); got {entry.Value.KindName}");
                        continue;
                    }
                    CheckKeys(group, ["vars"], $"group '{entry.Key.Value}'", diagnostics);
                    groupVars[entry.Key.Value] = ReadVars(group, diagnostics);
                }
            }
            else diagnostics.Error("CVG6001", g.Span, $"'groups' must be a map of group names; got {g.KindName}");
        }

        var hosts = new List<InventoryHost>();
        switch (top["hosts"])
        {
            case null:
                diagnostics.Error("CVG6001", top.Span, "the inventory has no 'hosts'");
                break;
            case MappingNode hm:
                foreach (var entry in hm.Entries)
                {
                    var name = entry.Key.Value;
                    if (!ValidName.IsMatch(name))
                        diagnostics.Error("CVG6002", entry.Key.Span, $"host name '{name}' may hold only letters, digits, '.', '-' and '_'");
                    var h = entry.Value as MappingNode;
                    if (h is null && entry.Value is not ScalarNode { IsNull: true })
                    {
                        diagnostics.Error("CVG6001", entry.Value.Span, $"host '{name}' must be a map (address, port, user, identity, become, groups, vars); got {entry.Value.KindName}");
                        continue;
                    }
                    var groups = new List<string>();
                    var vars = (JsonObject)defaults.DeepClone();
                    if (h is not null)
                    {
                        CheckKeys(h, HostKeys, $"host '{name}'", diagnostics);
                        foreach (var (group, span) in ReadGroups(h, diagnostics))
                        {
                            groups.Add(group);
                            if (groupVars.TryGetValue(group, out var gv)) Merge(vars, gv);
                            else diagnostics.Error("CVG6003", span,
                                $"host '{name}' is in group '{group}', which 'groups' does not declare"
                                + Suggest.DidYouMean(group, groupVars.Keys));
                        }
                        Merge(vars, ReadVars(h, diagnostics));
                    }
                    hosts.Add(new InventoryHost(
                        name,
                        (h is null ? null : ReadString(h, "address", diagnostics)) ?? name,
                        (h is null ? null : ReadPort(h, diagnostics)) ?? port,
                        (h is null ? null : ReadString(h, "user", diagnostics)) ?? user,
                        (h is null ? null : ReadPath(h, "identity", baseDir, diagnostics)) ?? identity,
                        (h is null ? null : ReadBool(h, "become", diagnostics)) ?? become,
                        groups,
                        vars) { Node = name });
                }
                break;
            case var other:
                diagnostics.Error("CVG6001", other.Span, $"'hosts' must be a map of host names; got {other.KindName}");
                break;
        }
        return diagnostics.HasErrors ? [] : hosts;
    }

    /// <summary>
    /// An ad-hoc target from the command line: <c>host</c>, <c>user@host</c>, <c>host:port</c>,
    /// <c>user@[v6addr]:port</c>. Returns null (with the reason) when it is not one of those.
    /// </summary>
    public static InventoryHost? ParseTarget(string target, Fallback fallback, out string? error)
    {
        error = null;
        var user = fallback.User;
        var rest = target;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            user = rest[..at];
            rest = rest[(at + 1)..];
        }
        var port = fallback.Port;
        string address;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) { error = $"'{target}': missing ']' after an IPv6 address"; return null; }
            address = rest[1..close];
            var tail = rest[(close + 1)..];
            if (tail.Length > 0 && (!tail.StartsWith(':') || !TryPort(tail[1..], out port)))
            { error = $"'{target}': expected ':PORT' after ']'"; return null; }
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            if (colon >= 0)
            {
                if (!TryPort(rest[(colon + 1)..], out port)) { error = $"'{target}': port must be a number from 1 to 65535"; return null; }
                rest = rest[..colon];
            }
            address = rest;
        }
        if (user.Length == 0 || address.Length == 0 || address.Contains('@'))
        {
            error = $"'{target}' is not a host: write host, user@host, host:port or user@host:port";
            return null;
        }
        var name = port == 22 ? address : $"{address}:{port}";
        return new InventoryHost(name, address, port, user, fallback.IdentityFile, fallback.Become, [], new JsonObject());
    }

    /// <summary>
    /// Hosts whose name matches any of the comma-separated globs (<c>*</c>, <c>?</c>; a leading
    /// <c>!</c> excludes), or whose group does: <c>web-*,!web-03</c>, <c>db</c>.
    /// </summary>
    public static IReadOnlyList<InventoryHost> Limit(IReadOnlyList<InventoryHost> hosts, string? limit)
    {
        if (string.IsNullOrWhiteSpace(limit)) return hosts;
        var patterns = limit.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var include = patterns.Where(p => !p.StartsWith('!')).Select(GlobRegex).ToList();
        var exclude = patterns.Where(p => p.StartsWith('!')).Select(p => GlobRegex(p[1..])).ToList();
        bool Hit(Regex r, InventoryHost h) => r.IsMatch(h.Name) || h.Groups.Any(r.IsMatch);
        return hosts.Where(h => (include.Count == 0 || include.Any(r => Hit(r, h))) && !exclude.Any(r => Hit(r, h))).ToList();
    }

    /// <summary>A shell-style glob (<c>*</c>, <c>?</c>) as an anchored regex.</summary>
    public static Regex GlobRegex(string glob) =>
        new("^" + Regex.Escape(glob).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);

    private static readonly Regex ValidName = new("^[A-Za-z0-9._-]+$");

    private static bool TryPort(string s, out int port) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static void CheckKeys(MappingNode map, string[] allowed, string what, DiagnosticBag diagnostics)
    {
        foreach (var e in map.Entries)
            if (!allowed.Contains(e.Key.Value))
                diagnostics.Error("CVG6001", e.Key.Span,
                    $"{what}: unknown key '{e.Key.Value}'{Suggest.DidYouMean(e.Key.Value, allowed)} (allowed: {string.Join(", ", allowed)})");
    }

    private static string? ReadString(MappingNode map, string key, DiagnosticBag diagnostics)
    {
        switch (map[key])
        {
            case null: return null;
            case ScalarNode { IsNull: false } s when s.Value.Length > 0: return s.Value;
            case var v:
                diagnostics.Error("CVG6002", v.Span, $"'{key}' must be a non-empty string; got {(v is ScalarNode { IsNull: false } ? "an empty string" : v.KindName)}");
                return null;
        }
    }

    private static string? ReadPath(MappingNode map, string key, string baseDir, DiagnosticBag diagnostics)
    {
        var s = ReadString(map, key, diagnostics);
        if (s is null) return null;
        if (s == "~" || s.StartsWith("~/", StringComparison.Ordinal))
            s = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), s.Length > 2 ? s[2..] : "");
        return Path.GetFullPath(s, baseDir);
    }

    private static int? ReadPort(MappingNode map, DiagnosticBag diagnostics)
    {
        if (map["port"] is not { } v) return null;
        if (v is ScalarNode s && TryPort(s.Value, out var port)) return port;
        diagnostics.Error("CVG6002", v.Span, $"'port' must be a number from 1 to 65535; got {Describe(v)}");
        return null;
    }

    private static bool? ReadBool(MappingNode map, string key, DiagnosticBag diagnostics)
    {
        if (map[key] is not { } v) return null;
        if (v is ScalarNode { Quoted: false } s)
        {
            if (s.Value is "true" or "True" or "yes") return true;
            if (s.Value is "false" or "False" or "no") return false;
        }
        diagnostics.Error("CVG6002", v.Span, $"'{key}' must be true or false; got {Describe(v)}");
        return null;
    }

    private static IEnumerable<(string Group, SourceSpan Span)> ReadGroups(MappingNode map, DiagnosticBag diagnostics)
    {
        switch (map["groups"])
        {
            case null: yield break;
            case ScalarNode { IsNull: false } one: yield return (one.Value, one.Span); break;
            case SequenceNode seq:
                foreach (var item in seq.Items)
                {
                    if (item is ScalarNode { IsNull: false } s) yield return (s.Value, s.Span);
                    else diagnostics.Error("CVG6002", item.Span, $"a group name must be a string; got {item.KindName}");
                }
                break;
            case var v:
                diagnostics.Error("CVG6002", v.Span, $"'groups' must be a list of group names; got {v.KindName}");
                break;
        }
    }

    private static JsonObject ReadVars(MappingNode map, DiagnosticBag diagnostics)
    {
        switch (map["vars"])
        {
            case null: return new JsonObject();
            case ScalarNode { IsNull: true }: return new JsonObject();
            case MappingNode m: return (JsonObject)ToJson(m)!;
            case var v:
                diagnostics.Error("CVG6002", v.Span, $"'vars' must be a map of names to values; got {v.KindName}");
                return new JsonObject();
        }
    }

    /// <summary>
    /// YAML to JSON the way manifests read scalars: a quoted scalar is a string; an unquoted one is null,
    /// a bool, an integer or a number when it looks like one, else a string.
    /// </summary>
    public static JsonNode? ToJson(SyntaxNode node) => node switch
    {
        MappingNode m => new JsonObject(m.Entries.Select(e => KeyValuePair.Create(e.Key.Value, ToJson(e.Value)))),
        SequenceNode s => new JsonArray(s.Items.Select(ToJson).ToArray()),
        ScalarNode { Quoted: true } q => JsonValue.Create(q.Value),
        ScalarNode { IsNull: true } => null,
        ScalarNode { Value: "true" or "True" } => JsonValue.Create(true),
        ScalarNode { Value: "false" or "False" } => JsonValue.Create(false),
        ScalarNode n when long.TryParse(n.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        ScalarNode n when double.TryParse(n.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && n.Value.Any(char.IsDigit) => JsonValue.Create(d),
        ScalarNode n => JsonValue.Create(n.Value),
        _ => null,
    };

    private static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (k, v) in from) into[k] = v?.DeepClone();
    }

    private static string Describe(SyntaxNode v) => v is ScalarNode { IsNull: false } s ? $"'{s.Value}'" : v.KindName;
}
