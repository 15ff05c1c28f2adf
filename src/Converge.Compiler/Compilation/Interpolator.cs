using System.Text.RegularExpressions;
using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;
using Scriban;
using Scriban.Parsing;
using Scriban.Syntax;
using SourceSpan = Converge.Manifests.Diagnostics.SourceSpan;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Evaluates <c>{{ }}</c> in manifest strings with Scriban, strictly (an undefined variable or member
/// is an error at the string's position), and tracks whether each evaluation read a secret. Strings
/// without <c>{{</c> never reach Scriban, and parsed expressions are cached by text, which is what
/// keeps large catalogs fast. One instance per compile; not thread-safe.
/// </summary>
internal sealed partial class Interpolator
{
    private readonly DiagnosticBag _diagnostics;
    private TemplateContext? _contextOrNull;
    private readonly Dictionary<string, Template> _mixed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Template> _expressions = new(StringComparer.Ordinal);

    public Interpolator(DiagnosticBag diagnostics)
    {
        _diagnostics = diagnostics;
    }

    // Created on first use: setting up Scriban's builtins costs tens of milliseconds, and a manifest
    // without any {{ }} (a generated one, say) should not pay for them.
    private TemplateContext _context => _contextOrNull ??= new TemplateContext
    {
        StrictVariables = true,
        EnableRelaxedMemberAccess = false,
        // Manifests are trusted, but a runaway loop in a template should fail, not hang the agent.
        LoopLimit = 100_000,
        RecursiveLimit = 100,
    };

    public TaintTracker Tracker { get; } = new();

    /// <summary>
    /// Interpolates every string in <paramref name="node"/>. Returns null when an error was reported.
    /// <paramref name="sensitive"/> forces every resulting value sensitive (a <c>sensitive: true</c> resource).
    /// </summary>
    public Value? Node(SyntaxNode node, Scope scope, string? resource, bool sensitive)
    {
        switch (node)
        {
            case ScalarNode scalar:
                return Scalar(scalar, scope, resource, sensitive);
            case SequenceNode seq:
            {
                var items = new List<Value>(seq.Items.Count);
                var ok = true;
                foreach (var item in seq.Items)
                {
                    var v = Node(item, scope, resource, sensitive);
                    if (v is null) ok = false;
                    else items.Add(v);
                }
                return ok ? new ListValue(seq.Span, items, sensitive) : null;
            }
            case MappingNode map:
            {
                var entries = new List<KeyValuePair<string, Value>>(map.Entries.Count);
                var ok = true;
                foreach (var e in map.Entries)
                {
                    var v = Node(e.Value, scope, resource, sensitive);
                    if (v is null) ok = false;
                    else entries.Add(KeyValuePair.Create(e.Key.Value, v));
                }
                return ok ? new MapValue(map.Span, entries, sensitive) : null;
            }
            default:
                return null;
        }
    }

    /// <summary>
    /// Interpolates one scalar. A scalar that is exactly one <c>{{ expr }}</c> takes the expression's
    /// value, so a list or map stays a list or map; any other result is text, quoted.
    /// </summary>
    public Value? Scalar(ScalarNode scalar, Scope scope, string? resource, bool sensitive)
    {
        var text = scalar.Value;
        if (!text.Contains("{{", StringComparison.Ordinal))
            return new ScalarValue(scalar.Span, text, scalar.Quoted, sensitive);

        if (WholeExpression(text) is var (start, length))
        {
            if (!Evaluate(text.Substring(start, length), scalar, start, scope, resource, out var result, out var tainted))
                return null;
            // A list or map is taken whole. A scalar keeps the text around the braces ("{{ x }}\n" must
            // keep its newline), so only a bare "{{ x }}" may skip the text rendering below.
            var structured = result is System.Collections.IEnumerable and not string;
            if (structured || text.Trim().Length == text.Length)
                return ScriptValues.ToValue(result, scalar.Span, sensitive || tainted, _context);
        }

        if (!_mixed.TryGetValue(text, out var template))
        {
            template = Template.Parse(text, scalar.Span.File);
            _mixed[text] = template;
        }
        if (template.HasErrors)
        {
            ReportParseErrors(template, scalar, 0, resource);
            return null;
        }
        if (!Run(scope, () => template.Render(_context), e => ReportRuntime(e, At(scalar, 0, e.Span), resource, CompilerCodes.ExpressionError), out var rendered))
            return null;
        return new ScalarValue(scalar.Span, (string?)rendered ?? "", Quoted: true, sensitive || Tracker.Touched);
    }

    /// <summary>
    /// Evaluates a Scriban expression written without braces (a <c>when:</c> such as
    /// <c>facts.os.family == "debian"</c>) found at <paramref name="offset"/> in <paramref name="where"/>.
    /// </summary>
    public bool Evaluate(string expression, ScalarNode where, int offset, Scope scope, string? resource,
        out object? result, out bool tainted)
    {
        result = null;
        tainted = false;
        if (!_expressions.TryGetValue(expression, out var template))
        {
            template = Template.Parse(expression, where.Span.File, lexerOptions: new LexerOptions { Mode = ScriptMode.ScriptOnly });
            _expressions[expression] = template;
        }
        if (template.HasErrors)
        {
            ReportParseErrors(template, where, offset, resource);
            return false;
        }
        if (!Run(scope, () => template.Evaluate(_context), e => ReportRuntime(e, At(where, offset, e.Span), resource, CompilerCodes.ExpressionError), out result))
            return false;
        tainted = Tracker.Touched;
        return true;
    }

    /// <summary>
    /// Renders a parsed template file; <c>include</c> reads partials through <paramref name="includes"/>. Runtime errors are reported at the template file's line:col
    /// and name <paramref name="resource"/>. Returns null on error.
    /// </summary>
    public string? Render(Template template, Scope scope, string resource, ConfinedTemplateLoader includes, out bool tainted)
    {
        tainted = false;
        _context.TemplateLoader = includes;
        try
        {
            // An error inside an included partial carries the partial's path.
            if (!Run(scope, () => template.Render(_context),
                    e => ReportRuntime(e, TemplateSpan(string.IsNullOrEmpty(e.Span.FileName) ? template.SourceFilePath ?? "" : e.Span.FileName, e.Span),
                        resource, CompilerCodes.TemplateRender),
                    out var rendered))
                return null;
            tainted = Tracker.Touched;
            return (string?)rendered ?? "";
        }
        finally
        {
            // Strings in manifests have no templates directory, so they get no includes.
            _context.TemplateLoader = null;
        }
    }

    /// <summary>Scriban truthiness, tightened for YAML: null, false, 0, "" and "false" are false.</summary>
    public static bool IsTruthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0 && s is not ("false" or "False" or "FALSE"),
        long l => l != 0,
        int i => i != 0,
        double d => d != 0,
        _ => true,
    };

    /// <summary>The position of a Scriban span inside a template file (Scriban counts from 0).</summary>
    public static SourceSpan TemplateSpan(string file, Scriban.Parsing.SourceSpan span)
        => new(file, span.Start.Line + 1, span.Start.Column + 1, span.End.Line + 1, span.End.Column + 2);

    /// <summary>
    /// When <paramref name="text"/> is exactly one <c>{{ expr }}</c> (whitespace around it allowed),
    /// the start and length of <c>expr</c>; otherwise null.
    /// </summary>
    internal static (int Start, int Length)? WholeExpression(string text)
    {
        var open = text.IndexOf("{{", StringComparison.Ordinal);
        var close = text.LastIndexOf("}}", StringComparison.Ordinal);
        if (open < 0 || close < open + 2) return null;
        if (!string.IsNullOrWhiteSpace(text[..open]) && open > 0) return null;
        if (!string.IsNullOrWhiteSpace(text[(close + 2)..]) && close + 2 < text.Length) return null;
        if (text.IndexOf("{{", open + 2, StringComparison.Ordinal) >= 0) return null;
        if (text.IndexOf("}}", open + 2, StringComparison.Ordinal) != close) return null;
        var start = open + 2;
        var end = close;
        // Scriban's whitespace-control markers ({{- -}}, {{~ ~}}) mean nothing for a whole value.
        if (start < end && text[start] is '-' or '~') start++;
        if (end > start && text[end - 1] is '-' or '~') end--;
        return (start, end - start);
    }

    private bool Run(Scope scope, Func<object?> body, Action<ScriptRuntimeException> onError, out object? result)
    {
        Tracker.Reset();
        _context.PushGlobal(scope.Root);
        try
        {
            result = body();
            return true;
        }
        catch (ScriptRuntimeException e)
        {
            onError(e);
            result = null;
            return false;
        }
        catch (Exception e) when (e is ArithmeticException or InvalidCastException or FormatException or ArgumentException or InvalidOperationException)
        {
            // Scriban lets some .NET exceptions from builtins escape (1/0, bad conversions); they are
            // mistakes in the manifest, not bugs in Converge, so they become diagnostics too.
            onError(new ScriptRuntimeException(default, e.Message));
            result = null;
            return false;
        }
        finally
        {
            // Reset drops the pushed global and any output a failed render left behind, so the
            // context is clean for the next string.
            _context.Reset();
        }
    }

    private void ReportParseErrors(Template template, ScalarNode where, int offset, string? resource)
    {
        foreach (var m in template.Messages.Where(m => m.Type == ParserMessageType.Error))
            _diagnostics.Error(CompilerCodes.ExpressionSyntax, At(where, offset, m.Span),
                $"syntax error in expression: {m.Message}", resource);
    }

    private void ReportRuntime(ScriptRuntimeException e, SourceSpan span, string? resource, string code)
    {
        string message;
        if (UndefinedVariable().Match(e.OriginalMessage) is { Success: true } m)
        {
            var name = m.Groups[1].Value;
            message = $"undefined variable '{name}'{Suggest.DidYouMean(name, Scope.GlobalNames)}; "
                      + "the variables are facts, vars, params, secrets, node (and item, key inside for_each)";
        }
        else if (MissingIndex().IsMatch(e.OriginalMessage) && Tracker.LastMiss is var (ipath, imember, icandidates))
        {
            // map[name] with a name the map lacks; Scriban's message names the index expression, not its value.
            message = $"'{ipath}' has no member '{imember}'{Suggest.DidYouMean(imember, icandidates)}";
        }
        else if (MissingMember().Match(e.OriginalMessage) is { Success: true } mm)
        {
            var name = mm.Groups[1].Value;
            message = Tracker.LastMiss is var (path, member, candidates) && member == name
                ? $"'{path}' has no member '{name}'{Suggest.DidYouMean(name, candidates)}"
                : $"no member '{name}' here: the value on its left is not a map";
        }
        else
        {
            message = "expression failed: " + e.OriginalMessage;
        }
        _diagnostics.Error(code, span, message, resource);
    }

    /// <summary>
    /// Maps a Scriban position inside the text that was parsed (which starts at <paramref name="offset"/>
    /// within the scalar) to the manifest file. Exact for single-line plain and simply quoted scalars;
    /// otherwise the scalar's own position is the best honest answer.
    /// </summary>
    private static SourceSpan At(ScalarNode scalar, int offset, Scriban.Parsing.SourceSpan inner)
    {
        var s = scalar.Span;
        var text = scalar.Value;
        if (s.Line != s.EndLine || text.Contains('\n')) return s;
        int shift;
        if (s.EndColumn - s.Column == text.Length) shift = 0;
        else if (s.EndColumn - s.Column == text.Length + 2) shift = 1;
        else return s;
        // The parsed text is single-line too, so Scriban's column is an index into it.
        var column = s.Column + shift + offset + Math.Max(0, inner.Start.Column);
        var endColumn = inner.End.Line == inner.Start.Line && inner.End.Column >= inner.Start.Column
            ? s.Column + shift + offset + inner.End.Column + 1
            : column + 1;
        column = Math.Min(column, s.EndColumn);
        return new SourceSpan(s.File, s.Line, column, s.Line, Math.Max(column + 1, Math.Min(endColumn, s.EndColumn)));
    }

    [GeneratedRegex(@"^Cannot get member with name (.+?)\.?$")]
    private static partial Regex MissingMember();

    [GeneratedRegex(@"^Cannot access target `.+` with an indexer")]
    private static partial Regex MissingIndex();

    [GeneratedRegex("^The variable or function `(.+)` was not found")]
    private static partial Regex UndefinedVariable();
}
