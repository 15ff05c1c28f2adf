using System.Globalization;
using Converge.Engine;
using Converge.Reporting;

namespace Converge.Agent;

/// <summary>
/// The one line per run that reads like a deploy log:
/// <c>converged web-01 to 3f2a1c9 (was 9e8d7b0, author alice, 'raise worker count'): 3 changed, 0 failed in 1.2 s</c>.
/// </summary>
public static class DeployLog
{
    public static string Line(string node, Revision revision, string? previous, RunResult result, string? fallback, bool timedOut)
    {
        var s = result.Summary;
        var was = previous is null ? "first run"
            : previous == revision.Commit ? "no new commit"
            : "was " + Short(previous);
        var author = AuthorName(revision.Author);
        var about = $"{was}{(author is null ? "" : ", author " + author)}{(revision.Subject is null ? "" : $", '{revision.Subject}'")}";
        var seconds = result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        var line = result.Noop
            ? $"checked {node} at {revision.Short} (noop; {about}): {s.WouldChange + s.Unknown} would change, {s.Failed} failed in {seconds} s"
            : $"converged {node} to {revision.Short} ({about}): {s.Changed} changed, {s.Failed} failed in {seconds} s";
        if (s.Skipped > 0) line += $", {s.Skipped} skipped";
        if (timedOut) line += "; the run timed out";
        else if (result.Interrupted) line += "; interrupted";
        if (fallback is not null) line += "; " + fallback;
        return line;
    }

    /// <summary>"alice" from "alice &lt;alice@example.com&gt;".</summary>
    public static string? AuthorName(string? author)
    {
        if (author is null) return null;
        var lt = author.IndexOf('<');
        return lt > 0 ? author[..lt].Trim() : author.Trim();
    }

    public static string Short(string? commit) => commit is { Length: > 7 } c ? c[..7] : commit ?? "unknown";
}
