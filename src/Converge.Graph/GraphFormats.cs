using System.Text;
using System.Text.Json;
using Converge.Compiler.Catalog;

namespace Converge.Graph;

/// <summary>The graph as text for people and tools: Graphviz DOT, Mermaid, JSON. All deterministic.</summary>
public static class GraphFormats
{
    public static string ToDot(ResourceGraph graph)
    {
        var sb = new StringBuilder("digraph converge {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
        foreach (var id in graph.Order)
            sb.Append("  ").Append(Quote(id.ToString())).Append(";\n");
        foreach (var e in graph.Edges)
        {
            sb.Append("  ").Append(Quote(e.From.ToString())).Append(" -> ").Append(Quote(e.To.ToString()));
            sb.Append(e.Kind switch
            {
                EdgeKind.Auto => " [style=dashed, label=\"auto\"]",
                EdgeKind.Serial => " [style=dotted, label=\"serial\"]",
                EdgeKind.Notify or EdgeKind.Subscribe => $" [color=\"#c0392b\", label=\"{e.Kind.ToString().ToLowerInvariant()}\"]",
                _ => "",
            });
            sb.Append(";\n");
        }
        return sb.Append("}\n").ToString();
    }

    public static string ToMermaid(ResourceGraph graph)
    {
        var index = graph.Order.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => $"r{x.i}");
        var sb = new StringBuilder("flowchart LR\n");
        foreach (var id in graph.Order)
            sb.Append("  ").Append(index[id]).Append("[\"").Append(id.ToString().Replace("\"", "#quot;")).Append("\"]\n");
        foreach (var e in graph.Edges)
        {
            var arrow = e.Kind switch
            {
                EdgeKind.Auto => " -.-> ",
                EdgeKind.Serial => " -.->|serial| ",
                EdgeKind.Notify or EdgeKind.Subscribe => $" ==>|{e.Kind.ToString().ToLowerInvariant()}| ",
                _ => " --> ",
            };
            sb.Append("  ").Append(index[e.From]).Append(arrow).Append(index[e.To]).Append('\n');
        }
        return sb.ToString();
    }

    public static string ToJson(ResourceGraph graph)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("formatVersion", 1);
            w.WriteStartArray("resources");
            foreach (var id in graph.Order)
            {
                w.WriteStartObject();
                w.WriteString("id", id.ToString());
                w.WriteString("source", graph.Resources[id].Span.ToString());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("edges");
            foreach (var e in graph.Edges)
            {
                w.WriteStartObject();
                w.WriteString("from", e.From.ToString());
                w.WriteString("to", e.To.ToString());
                w.WriteString("kind", e.Kind.ToString().ToLowerInvariant());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
