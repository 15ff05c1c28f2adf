using System.Text.RegularExpressions;
using Converge.Providers.Contract;

namespace Converge.Providers.Line;

/// <summary>Whether the line should be in the file.</summary>
public enum LineEnsure { Present, Absent }

/// <summary>
/// The typed desired state of a <c>line</c> resource: one line of a file that someone else owns. It
/// deliberately does not implement <see cref="IManagesPath"/>: a line does not own its file, so a
/// directory's <c>purge</c> must not spare the file on its account.
/// </summary>
public sealed record LineSpec : ResourceSpec
{
    /// <summary>The absolute, normalized path of the file to edit.</summary>
    public required string Path { get; init; }

    public LineEnsure Ensure { get; init; } = LineEnsure.Present;

    /// <summary>
    /// The exact text of the line, without a line ending; required when present. The manifest key is
    /// <c>text</c>, not <c>line</c>: a resource's first key is its type, so <c>line</c> is taken.
    /// </summary>
    public string? Text { get; init; }

    /// <summary>Lines to replace (present) or remove (absent).</summary>
    public LinePattern? Match { get; init; }

    /// <summary>Insert a new line after the last line matching this; at the end when none does.</summary>
    public LinePattern? After { get; init; }

    /// <summary>Insert a new line before the first line matching this; at the end when none does.</summary>
    public LinePattern? Before { get; init; }

    /// <summary>With <see cref="Match"/> and present: replace every matching line instead of failing on several.</summary>
    public bool Multiple { get; init; }

    /// <summary>Create the file (holding just the line) when it does not exist, instead of failing.</summary>
    public bool Create { get; init; }

    /// <summary>Store the file's old content in the bucket before it is rewritten (default true).</summary>
    public bool Backup { get; init; } = true;

    /// <summary>True when any property that can end up in the diff derived from a secret.</summary>
    public bool HasSensitiveText =>
        IsSensitive("text") || IsSensitive("match") || IsSensitive("insert_after") || IsSensitive("insert_before");
}

/// <summary>
/// A .NET regular expression from the manifest, compiled once at load time. Equal when the source text
/// is equal (<see cref="Regex"/> itself has reference equality, which would make equal specs differ).
/// </summary>
public sealed class LinePattern : IEquatable<LinePattern>
{
    /// <summary>
    /// Bounds one match so a pathological pattern on a large file fails the resource instead of hanging
    /// the run (backtracking regexes can take exponential time).
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    private LinePattern(string text, Regex regex)
    {
        Text = text;
        Regex = regex;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>The compiled pattern: culture-invariant, with <see cref="MatchTimeout"/>.</summary>
    public Regex Regex { get; }

    /// <summary>Compiles <paramref name="text"/>; on failure returns null and the parser's reason in <paramref name="error"/>.</summary>
    public static LinePattern? TryCreate(string text, out string? error)
    {
        try
        {
            error = null;
            return new LinePattern(text, new Regex(text, RegexOptions.CultureInvariant, MatchTimeout));
        }
        catch (RegexParseException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>True when the pattern occurs anywhere in <paramref name="line"/> (a search, as grep does).</summary>
    public bool IsMatch(string line) => Regex.IsMatch(line);

    public bool Equals(LinePattern? other) => other is not null && Text == other.Text;

    public override bool Equals(object? obj) => Equals(obj as LinePattern);

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Text;
}
