using Converge.Manifests.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Converge.Manifests.Syntax;

/// <summary>
/// Reads one YAML document into a <see cref="SyntaxNode"/> tree with positions, using YamlDotNet's
/// event parser (no reflection, no object mapping). Reports syntax errors, duplicate keys (with both
/// locations), non-scalar keys, extra documents and alias bombs to the bag, and never throws for bad input.
/// </summary>
public static class YamlLoader
{
    /// <summary>
    /// The most nodes a document may expand to once aliases are counted at every use. Real manifests
    /// are far below it; "billion laughs" documents are far above.
    /// </summary>
    public const int MaxExpandedNodes = 1_000_000;

    /// <summary>
    /// Parses <paramref name="text"/> (read from <paramref name="path"/>, which is used only in spans).
    /// Returns the root of the document, an empty mapping for an empty file, or null when it could not
    /// be parsed (the errors are in <paramref name="diagnostics"/>).
    /// </summary>
    public static SyntaxNode? Load(string path, string text, DiagnosticBag diagnostics)
    {
        var builder = new TreeBuilder(path, diagnostics);
        try
        {
            return builder.Build(new Parser(new StringReader(text)));
        }
        catch (SemanticErrorException e)
        {
            diagnostics.Error("CVG1001", SpanOf(path, e.Start, e.End), WithHint("YAML: " + Clean(e.Message), text, e.Start));
        }
        catch (SyntaxErrorException e)
        {
            diagnostics.Error("CVG1001", SpanOf(path, e.Start, e.End), WithHint("YAML syntax: " + Clean(e.Message), text, e.Start));
        }
        catch (YamlException e)
        {
            diagnostics.Error("CVG1001", SpanOf(path, e.Start, e.End), WithHint("YAML: " + Clean(e.Message), text, e.Start));
        }
        catch (InvalidOperationException)
        {
            // Some malformed inputs (an unclosed flow collection) make YamlDotNet's scanner fail without
            // a position; the end of the last event that parsed is the best place we can name.
            diagnostics.Error("CVG1001", builder.LastGood,
                "YAML syntax: the document is not well-formed after this point (an unclosed '[' or '{'?)");
        }
        catch (AliasBombException e)
        {
            diagnostics.Error("CVG1003", e.Span,
                $"YAML aliases expand this document beyond {MaxExpandedNodes:N0} nodes; refusing to load it (is it an alias bomb?)");
        }
        return null;
    }

    /// <summary>
    /// The commonest YAML mistake in manifests: <c>require: [file[/a], package[b]]</c>. Inside a flow
    /// list, '[' and ']' are YAML's own brackets, so references there must be quoted.
    /// </summary>
    private static string WithHint(string message, string text, Mark at)
        => FlowReferenceHint(text, at) is { Length: > 0 } hint ? message.TrimEnd('.') + hint : message;

    private static string FlowReferenceHint(string text, Mark at)
    {
        var lines = text.Split('\n');
        if (at.Line < 1 || at.Line > lines.Length) return "";
        var line = lines[(int)at.Line - 1];
        var flow = line.IndexOf(": [", StringComparison.Ordinal);
        if (flow < 0) return "";
        var inside = line[(flow + 3)..];
        for (var i = 1; i < inside.Length; i++)
            if (inside[i] == '[' && char.IsAsciiLetterLower(inside[i - 1]))
                return "; references such as type[title] inside a [ ] list must be quoted, e.g. [\"file[/etc/motd]\", \"package[nginx]\"], or written one per line as a block list";
        return "";
    }

    internal static SourceSpan SpanOf(string path, Mark start, Mark end)
        => new(path, (int)start.Line, (int)start.Column, (int)end.Line, (int)end.Column);

    // YamlDotNet prefixes messages with its own "(Line: 3, Col: 5, Idx: 20) - (...)" positions; ours come first.
    private static string Clean(string message)
    {
        var i = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && i > 0 ? message[(i + 3)..] : message;
    }

    private sealed class AliasBombException(SourceSpan span) : Exception
    {
        public SourceSpan Span { get; } = span;
    }

    private sealed class TreeBuilder(string path, DiagnosticBag diagnostics)
    {
        private readonly Dictionary<string, (SyntaxNode Node, long Weight)> _anchors = new(StringComparer.Ordinal);
        private long _expanded;

        /// <summary>Where the last successfully parsed event ended.</summary>
        public SourceSpan LastGood { get; private set; } = new(path, 1, 1, 1, 1);

        public SyntaxNode? Build(IParser parser)
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
                return new MappingNode(new SourceSpan(path, 1, 1, 1, 1), []);

            var docStart = parser.Consume<DocumentStart>();
            SyntaxNode root;
            if (parser.Accept<DocumentEnd>(out _))
                root = new MappingNode(SpanOf(path, docStart.Start, docStart.End), []);
            else
                root = ReadNode(parser).Node;
            parser.Consume<DocumentEnd>();

            if (parser.Accept<DocumentStart>(out var extra))
                diagnostics.Error("CVG1005", SpanOf(path, extra.Start, extra.End),
                    "a manifest file holds one YAML document; remove this '---' and what follows, or move it to its own file");
            return root;
        }

        private (SyntaxNode Node, long Weight) ReadNode(IParser parser)
        {
            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                var span = SpanOf(path, alias.Start, alias.End);
                if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    diagnostics.Error("CVG1004", span, $"alias *{alias.Value.Value} refers to no anchor defined before it");
                    return (new ScalarNode(span, "", false), 1);
                }
                Count(target.Weight, span);
                return target;
            }

            (SyntaxNode Node, long Weight) result;
            string? anchor;
            if (parser.TryConsume<Scalar>(out var scalar))
            {
                anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
                var quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted
                    or ScalarStyle.Literal or ScalarStyle.Folded
                    || (!scalar.Tag.IsEmpty && scalar.Tag.Value == "tag:yaml.org,2002:str");
                var span = SpanOf(path, scalar.Start, scalar.End);
                Count(1, span);
                result = (new ScalarNode(span, scalar.Value, quoted), 1);
            }
            else if (parser.TryConsume<SequenceStart>(out var seqStart))
            {
                anchor = seqStart.Anchor.IsEmpty ? null : seqStart.Anchor.Value;
                var items = new List<SyntaxNode>();
                long weight = 1;
                Count(1, SpanOf(path, seqStart.Start, seqStart.End));
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    var (node, w) = ReadNode(parser);
                    items.Add(node);
                    weight += w;
                }
                result = (new SequenceNode(SpanOf(path, seqStart.Start, seqStart.End), items), weight);
            }
            else
            {
                var mapStart = parser.Consume<MappingStart>();
                anchor = mapStart.Anchor.IsEmpty ? null : mapStart.Anchor.Value;
                var entries = new List<MappingEntry>();
                var seen = new Dictionary<string, ScalarNode>(StringComparer.Ordinal);
                long weight = 1;
                Count(1, SpanOf(path, mapStart.Start, mapStart.End));
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var (keyNode, kw) = ReadNode(parser);
                    var (valueNode, vw) = ReadNode(parser);
                    weight += kw + vw;
                    if (keyNode is not ScalarNode key)
                    {
                        diagnostics.Error("CVG1006", keyNode.Span, $"a map key must be a plain string, not {keyNode.KindName}");
                        continue;
                    }
                    if (seen.TryGetValue(key.Value, out var first))
                    {
                        diagnostics.Error("CVG1002", key.Span,
                            $"duplicate key '{key.Value}' (first defined at {first.Span})");
                        continue;
                    }
                    seen.Add(key.Value, key);
                    entries.Add(new MappingEntry(key, valueNode));
                }
                result = (new MappingNode(SpanOf(path, mapStart.Start, mapStart.End), entries), weight);
            }

            if (anchor is not null) _anchors[anchor] = result;
            return result;
        }

        private void Count(long nodes, SourceSpan where)
        {
            LastGood = where;
            _expanded += nodes;
            if (_expanded > MaxExpandedNodes) throw new AliasBombException(where);
        }
    }
}
