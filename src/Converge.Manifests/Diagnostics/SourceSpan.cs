namespace Converge.Manifests.Diagnostics;

/// <summary>
/// A place in a manifest file: 1-based line and column of the first character, and of the position
/// just past the last one. Spans ride from the YAML parser through the catalog into reports, so every
/// error and every outcome can name where it came from.
/// </summary>
public readonly record struct SourceSpan(string File, int Line, int Column, int EndLine, int EndColumn)
{
    /// <summary>A span for things that have no manifest position (facts, command-line input).</summary>
    public static readonly SourceSpan None = new("", 0, 0, 0, 0);

    public bool IsNone => Line == 0;

    /// <summary><c>file:line:col</c>, the form editors and CI annotations understand.</summary>
    public override string ToString() => IsNone ? "(no location)" : $"{File}:{Line}:{Column}";
}
