namespace Converge.Manifests.Diagnostics;

public enum Severity { Error, Warning }

/// <summary>
/// One finding about the manifests: a code from the seam that found it (CVG1xxx manifests,
/// CVG2xxx compiler, CVG3xxx graph, CVG4xxx providers), where, and for which resource.
/// The message must never contain a secret value: callers redact before constructing one.
/// </summary>
public sealed record Diagnostic(string Code, Severity Severity, string Message, SourceSpan Span, string? Resource = null)
{
    /// <summary>
    /// True when the source line must not be printed under the message: the value at the span is a
    /// secret written literally in the manifest (a password hash), so the excerpt would show it.
    /// </summary>
    public bool HideExcerpt { get; init; }

    public static Diagnostic Error(string code, SourceSpan span, string message, string? resource = null)
        => new(code, Severity.Error, message, span, resource);

    public static Diagnostic Warning(string code, SourceSpan span, string message, string? resource = null)
        => new(code, Severity.Warning, message, span, resource);

    /// <summary>The one-line form: <c>file:line:col: error CVG1203: file[/x]: message</c>.</summary>
    public override string ToString()
    {
        var where = Span.IsNone ? "converge" : Span.ToString();
        var level = Severity == Severity.Error ? "error" : "warning";
        var subject = Resource is null ? "" : Resource + ": ";
        return $"{where}: {level} {Code}: {subject}{Message}";
    }
}
