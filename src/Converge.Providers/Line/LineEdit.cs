using System.Globalization;
using System.Text.RegularExpressions;
using Converge.Providers.Common;

namespace Converge.Providers.Line;

/// <summary>
/// The pure heart of the <c>line</c> type: given a spec and the file's lines, the edit to make (or none).
/// Diff uses it to plan and Apply to carry out the same plan, so both always agree.
/// </summary>
public static class LineEdit
{
    /// <summary>
    /// Edits <paramref name="text"/> in place for <paramref name="spec"/>. Returns null when the file is
    /// already as wanted; otherwise the change's display values (From: what is there, To: what will be).
    /// Throws <see cref="ProviderException"/> when the edit is ambiguous (several matches without
    /// <c>multiple</c>) or a pattern takes too long.
    /// </summary>
    public static (string? From, string To)? Apply(LineSpec spec, LineText text)
    {
        try
        {
            return spec.Ensure == LineEnsure.Absent ? Remove(spec, text) : Ensure(spec, text, spec.Text!);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw ProviderException.PatternTimedOut(spec.Path, Shown(spec, e.Pattern), LinePattern.MatchTimeout);
        }
    }

    private static (string? From, string To)? Ensure(LineSpec spec, LineText text, string line)
    {
        if (spec.Match is { } match)
        {
            var matches = Matching(text, match.IsMatch);
            if (matches.Count > 1 && !spec.Multiple)
                throw ProviderException.SeveralLinesMatch(spec.Path, Shown(spec, match.Text), matches.Select(i => i + 1).ToList());
            var differing = matches.Where(i => text.Lines[i] != line).ToList();
            if (matches.Count > 0)
            {
                if (differing.Count == 0) return null;
                var from = differing.Count == 1 ? text.Lines[differing[0]] : Count(differing.Count, match.Text);
                foreach (var i in differing) text.Replace(i, line);
                return (from, line);
            }
        }

        // No line matches (or no match given): a line already there verbatim is enough. This also keeps a
        // replacement that does not match its own pattern idempotent on the next run.
        if (text.Lines.Contains(line)) return null;
        text.Insert(InsertionIndex(spec, text), line);
        return (null, line);
    }

    private static (string? From, string To)? Remove(LineSpec spec, LineText text)
    {
        Func<string, bool> remove = spec.Match is { } match ? match.IsMatch : l => l == spec.Text;
        var matches = Matching(text, remove);
        if (matches.Count == 0) return null;
        var from = matches.Count == 1 ? text.Lines[matches[0]] : Count(matches.Count, spec.Match?.Text);
        for (var k = matches.Count - 1; k >= 0; k--) text.RemoveAt(matches[k]);
        return (from, "absent");
    }

    /// <summary>
    /// Where a new line goes, as Ansible's lineinfile does it: after the last line matching
    /// <c>insert_after</c>, or before the first line matching <c>insert_before</c>; at the end of the file when the
    /// anchor matches nothing or there is none.
    /// </summary>
    private static int InsertionIndex(LineSpec spec, LineText text)
    {
        if (spec.After is { } after)
        {
            var anchors = Matching(text, after.IsMatch);
            if (anchors.Count > 0) return anchors[^1] + 1;
        }
        else if (spec.Before is { } before)
        {
            var anchors = Matching(text, before.IsMatch);
            if (anchors.Count > 0) return anchors[0];
        }
        return text.Lines.Count;
    }

    // Messages must not quote a pattern that came from a secret.
    private static string Shown(LineSpec spec, string pattern) => spec.HasSensitiveText ? Compiler.Catalog.Value.Redacted : pattern;

    private static List<int> Matching(LineText text, Func<string, bool> predicate)
    {
        var result = new List<int>();
        for (var i = 0; i < text.Lines.Count; i++)
            if (predicate(text.Lines[i])) result.Add(i);
        return result;
    }

    private static string Count(int n, string? pattern) =>
        pattern is null
            ? $"{n.ToString(CultureInfo.InvariantCulture)} lines"
            : $"{n.ToString(CultureInfo.InvariantCulture)} lines matching /{pattern}/";
}
