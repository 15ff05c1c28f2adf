using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Converge.Compiler.Catalog;

namespace Converge.Compiler;

/// <summary>
/// The JSON view of a catalog (<c>converge catalog</c>): deterministic for the same catalog, indented,
/// <c>formatVersion</c> 1. Sensitive values (and every value of a sensitive resource) print as
/// <c>"(redacted)"</c>; <see cref="ResourceCatalog.SecretValues"/> is never written.
/// </summary>
public static class CatalogJson
{
    /// <summary>The version of the JSON shape written by <see cref="Write"/>.</summary>
    public const int FormatVersion = 1;

    /// <summary>
    /// The catalog as JSON: <c>{ formatVersion, node, modules, resources: [ { id, type, title, source,
    /// module, properties, require, before, notify, subscribe, tags, sensitive, noop } ] }</c>, resources
    /// in declaration order, scalar values as strings, lists as arrays, maps as objects.
    /// </summary>
    /// <param name="alwaysSensitive">
    /// Properties a resource type treats as sensitive whatever their source (a user's password hash),
    /// by resource id and property name; the compiler cannot know them, the providers do.
    /// </param>
    public static string Write(ResourceCatalog catalog, Func<ResourceId, string, bool>? alwaysSensitive = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions
               {
                   Indented = true,
                   // Manifests are full of '<', '&' and non-ASCII; escaping them only hurts reading.
                   Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
               }))
        {
            w.WriteStartObject();
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("node", catalog.Node);
            w.WriteStartArray("modules");
            foreach (var m in catalog.Modules) w.WriteStringValue(m);
            w.WriteEndArray();
            w.WriteStartArray("resources");
            foreach (var r in catalog.Resources) WriteResource(w, r, alwaysSensitive);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteResource(Utf8JsonWriter w, CatalogResource r, Func<ResourceId, string, bool>? alwaysSensitive)
    {
        w.WriteStartObject();
        w.WriteString("id", r.Id.ToString());
        w.WriteString("type", r.Type);
        w.WriteString("title", r.Title);
        w.WriteString("source", r.Span.ToString());
        if (r.Module is null) w.WriteNull("module");
        else w.WriteString("module", r.Module);
        w.WriteStartObject("properties");
        foreach (var (key, value) in r.Properties)
        {
            w.WritePropertyName(key);
            WriteValue(w, value, r.Sensitive || (alwaysSensitive?.Invoke(r.Id, key) ?? false));
        }
        w.WriteEndObject();
        WriteRefs(w, "require", r.Require);
        WriteRefs(w, "before", r.Before);
        WriteRefs(w, "notify", r.Notify);
        WriteRefs(w, "subscribe", r.Subscribe);
        w.WriteStartArray("tags");
        foreach (var t in r.Tags) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteBoolean("sensitive", r.Sensitive);
        w.WriteBoolean("noop", r.Noop);
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, Value value, bool redact)
    {
        if (redact || value.Sensitive)
        {
            w.WriteStringValue(Value.Redacted);
            return;
        }
        switch (value)
        {
            case ScalarValue s:
                w.WriteStringValue(s.Text);
                break;
            case ListValue l:
                w.WriteStartArray();
                foreach (var i in l.Items) WriteValue(w, i, false);
                w.WriteEndArray();
                break;
            case MapValue m:
                w.WriteStartObject();
                foreach (var (k, v) in m.Entries)
                {
                    w.WritePropertyName(k);
                    WriteValue(w, v, false);
                }
                w.WriteEndObject();
                break;
        }
    }

    private static void WriteRefs(Utf8JsonWriter w, string name, IReadOnlyList<ResourceRef> refs)
    {
        w.WriteStartArray(name);
        foreach (var r in refs) w.WriteStringValue(r.Target.ToString());
        w.WriteEndArray();
    }
}
