namespace Converge.Manifests.Diagnostics;

/// <summary>
/// Collects every diagnostic of a load/compile/validate pass, so the user sees all of them at once.
/// Thread-safe: providers validate specs in parallel.
/// </summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = new();
    private readonly Lock _gate = new();

    public void Add(Diagnostic diagnostic)
    {
        lock (_gate) _items.Add(diagnostic);
    }

    public void Error(string code, SourceSpan span, string message, string? resource = null)
        => Add(Diagnostic.Error(code, span, message, resource));

    public void Warning(string code, SourceSpan span, string message, string? resource = null)
        => Add(Diagnostic.Warning(code, span, message, resource));

    public void AddRange(IEnumerable<Diagnostic> diagnostics)
    {
        lock (_gate) _items.AddRange(diagnostics);
    }

    public bool HasErrors
    {
        get { lock (_gate) return _items.Exists(d => d.Severity == Severity.Error); }
    }

    public int Count
    {
        get { lock (_gate) return _items.Count; }
    }

    /// <summary>All diagnostics in a stable order: by file, line, column, then code and message.</summary>
    public IReadOnlyList<Diagnostic> Sorted()
    {
        lock (_gate)
        {
            return _items
                .OrderBy(d => d.Span.File, StringComparer.Ordinal)
                .ThenBy(d => d.Span.Line).ThenBy(d => d.Span.Column)
                .ThenBy(d => d.Code, StringComparer.Ordinal)
                .ThenBy(d => d.Message, StringComparer.Ordinal)
                .Distinct()
                .ToList();
        }
    }
}
