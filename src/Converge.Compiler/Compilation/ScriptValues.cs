using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Scriban;
using Scriban.Runtime;

namespace Converge.Compiler.Compilation;

/// <summary>The declared type of a module param, which also decides how the value looks to Scriban.</summary>
internal enum ParamType { Any, String, Int, Bool, List, Map }

/// <summary>
/// Converts between the compiler's data (catalog <see cref="Value"/> trees, facts as JSON) and the
/// objects Scriban evaluates over, in both directions.
/// </summary>
internal static class ScriptValues
{
    /// <summary>
    /// A Scriban view of <paramref name="value"/>. Maps become <see cref="TrackedObject"/>s whose members
    /// are tainted when anything beneath them is sensitive. Unquoted scalars read as numbers and bools
    /// (so <c>{{ vars.port + 1 }}</c> works); <paramref name="hint"/> forces the declared param type.
    /// </summary>
    public static object? ToScript(Value value, TaintTracker tracker, string path, ParamType hint = ParamType.Any)
    {
        switch (value)
        {
            case ScalarValue s:
                return hint switch
                {
                    ParamType.String => s.Text,
                    ParamType.Int when long.TryParse(s.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
                    ParamType.Bool when TryBool(s.Text, out var b) => b,
                    _ => s.Quoted ? s.Text : Typed(s),
                };
            case ListValue list:
            {
                var array = new ScriptArray(list.Items.Count);
                for (var i = 0; i < list.Items.Count; i++)
                    array.Add(ToScript(list.Items[i], tracker, $"{path}[{i}]"));
                return array;
            }
            case MapValue map:
            {
                var obj = new TrackedObject(tracker, path);
                foreach (var (k, v) in map.Entries)
                    obj.Set(k, ToScript(v, tracker, path + "." + k), IsTainted(v));
                return obj;
            }
            default:
                return null;
        }
    }

    /// <summary>True when the value or anything inside it is sensitive.</summary>
    public static bool IsTainted(Value value) => value switch
    {
        { Sensitive: true } => true,
        ListValue l => l.Items.Any(IsTainted),
        MapValue m => m.Entries.Any(e => IsTainted(e.Value)),
        _ => false,
    };

    /// <summary>A Scriban view of facts (JSON data): objects, arrays, strings, numbers, bools.</summary>
    public static object? FromJson(JsonNode? node, TaintTracker tracker, string path)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
            {
                var result = new TrackedObject(tracker, path);
                foreach (var (k, v) in obj) result.Set(k, FromJson(v, tracker, path + "." + k), tainted: false);
                return result;
            }
            case JsonArray array:
            {
                var result = new ScriptArray(array.Count);
                for (var i = 0; i < array.Count; i++) result.Add(FromJson(array[i], tracker, $"{path}[{i}]"));
                return result;
            }
            default:
            {
                var raw = node.ToJsonString();
                return node.GetValueKind() switch
                {
                    JsonValueKind.String => JsonString(node),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number when long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
                    JsonValueKind.Number => double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture),
                    _ => null,
                };
            }
        }
    }

    /// <summary>A JSON value (extra vars) as a catalog value with no position.</summary>
    public static Value FromJsonValue(JsonNode? node, SourceSpan span) => node switch
    {
        null => new ScalarValue(span, "", Quoted: false),
        JsonObject obj => new MapValue(span, obj.Select(e => KeyValuePair.Create(e.Key, FromJsonValue(e.Value, span))).ToList()),
        JsonArray array => new ListValue(span, array.Select(i => FromJsonValue(i, span)).ToList()),
        _ => node.GetValueKind() == JsonValueKind.String
            ? new ScalarValue(span, JsonString(node), Quoted: true)
            : new ScalarValue(span, node.ToJsonString(), Quoted: false),
    };

    /// <summary>
    /// A catalog value for what an evaluation returned: lists and maps keep their shape, everything
    /// else becomes text the way ops expect it (<c>4</c>, <c>true</c>). Results are always quoted:
    /// they are computed strings, not YAML plain scalars.
    /// </summary>
    public static Value ToValue(object? result, SourceSpan span, bool sensitive, TemplateContext context)
    {
        switch (result)
        {
            case null:
                // YAML null, as if written without a value: a property set to "{{ item.uid }}" where
                // item.uid is null is not set, and a var or param holding null reads as null again.
                return new ScalarValue(span, "", Quoted: false, sensitive);
            case string s:
                return new ScalarValue(span, s, Quoted: true, sensitive);
            case IList list:
                return new ListValue(span, list.Cast<object?>().Select(i => ToValue(i, span, sensitive, context)).ToList(), sensitive);
            case TrackedObject tracked:
                return new MapValue(span, tracked.Select(e => KeyValuePair.Create(e.Key, ToValue(e.Value, span, sensitive, context))).ToList(), sensitive);
            case IDictionary<string, object?> dict:
                return new MapValue(span, dict.Select(e => KeyValuePair.Create(e.Key, ToValue(e.Value, span, sensitive, context))).ToList(), sensitive);
            case IScriptObject obj:
                return new MapValue(span, obj.GetMembers()
                    .Select(m => KeyValuePair.Create(m, ToValue(obj.TryGetValue(context, default, m, out var v) ? v : null, span, sensitive, context)))
                    .ToList(), sensitive);
            case IEnumerable items:
                return new ListValue(span, items.Cast<object?>().Select(i => ToValue(i, span, sensitive, context)).ToList(), sensitive);
            default:
                return new ScalarValue(span, context.ObjectToString(result) ?? "", Quoted: true, sensitive);
        }
    }

    // A JsonValue may wrap a DateTime, Guid or char rather than a string; its JSON text is the truth.
    private static string JsonString(JsonNode node)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.GetString() ?? "";
    }

    /// <summary>YAML 1.2 core-schema booleans, plus the capitalised forms people write.</summary>
    public static bool TryBool(string text, out bool value)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE": value = true; return true;
            case "false" or "False" or "FALSE": value = false; return true;
            default: value = false; return false;
        }
    }

    private static object? Typed(ScalarValue s)
    {
        if (s.IsNull) return null;
        if (TryBool(s.Text, out var b)) return b;
        if (long.TryParse(s.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            && !(s.Text.Length > 1 && s.Text[0] == '0')) // "0644" is a mode, not 644
            return l;
        if (double.TryParse(s.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && s.Text.Contains('.'))
            return d;
        return s.Text;
    }
}
