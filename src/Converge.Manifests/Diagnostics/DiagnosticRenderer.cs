namespace Converge.Manifests.Diagnostics;

/// <summary>
/// Renders diagnostics the way compilers do: the one-line form, then the source line with carets
/// under the span. Source text is fetched through a callback so callers can cache files.
/// </summary>
public sealed class DiagnosticRenderer(Func<string, string?> readSource)
{
    private readonly Dictionary<string, string[]?> _lines = new(StringComparer.Ordinal);

    public static DiagnosticRenderer ForFiles() => new(p => File.Exists(p) ? File.ReadAllText(p) : null);

    public string Render(Diagnostic diagnostic)
    {
        var head = diagnostic.ToString();
        var span = diagnostic.Span;
        if (span.IsNone || diagnostic.HideExcerpt) return head;
        var lines = Lines(span.File);
        if (lines is null || span.Line < 1 || span.Line > lines.Length) return head;

        var text = lines[span.Line - 1].TrimEnd('\r').Replace('\t', ' ');
        var number = span.Line.ToString();
        var gutter = new string(' ', number.Length);
        var start = Math.Clamp(span.Column - 1, 0, text.Length);
        var width = span.EndLine == span.Line && span.EndColumn > span.Column
            ? Math.Min(span.EndColumn - span.Column, Math.Max(1, text.Length - start))
            : 1;
        return $"{head}\n {number} | {text}\n {gutter} | {new string(' ', start)}{new string('^', width)}";
    }

    public string RenderAll(IEnumerable<Diagnostic> diagnostics)
        => string.Join("\n", diagnostics.Select(Render));

    private string[]? Lines(string file)
    {
        if (!_lines.TryGetValue(file, out var lines))
        {
            lines = readSource(file)?.Split('\n');
            _lines[file] = lines;
        }
        return lines;
    }
}
