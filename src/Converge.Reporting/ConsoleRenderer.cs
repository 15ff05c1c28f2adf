using System.Globalization;
using System.Text;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Providers.Contract;

namespace Converge.Reporting;

/// <summary>
/// The human view of a run: one block per resource that changed, would change, failed, was skipped or
/// is unknown, with unified diffs (coloured on a terminal), then a summary line. Outcomes stream as the
/// run goes but are printed in graph order, so the same run always reads the same way.
/// </summary>
public sealed class ConsoleRenderer : IRunObserver
{
    private readonly TextWriter _out;
    private readonly bool _color;
    private readonly bool _showUnchanged;
    private readonly Func<string, string> _displayPath;
    private readonly Dictionary<ResourceId, int> _position = new();
    private readonly ResourceOutcome?[] _slots;
    private readonly Lock _gate = new();
    private int _next;

    /// <param name="displayPath">Shortens manifest paths for display (e.g. relative to the working directory).</param>
    public ConsoleRenderer(TextWriter output, IReadOnlyList<ResourceId> order, bool color, bool showUnchanged = false, Func<string, string>? displayPath = null)
    {
        _out = output;
        _displayPath = displayPath ?? (p => p);
        _color = color;
        _showUnchanged = showUnchanged;
        for (var i = 0; i < order.Count; i++) _position[order[i]] = i;
        _slots = new ResourceOutcome?[order.Count];
    }

    public void ResourceFinished(ResourceOutcome outcome)
    {
        lock (_gate)
        {
            _slots[_position[outcome.Id]] = outcome;
            while (_next < _slots.Length && _slots[_next] is { } ready)
            {
                var text = Render(ready, _color, _showUnchanged);
                if (text.Length > 0) _out.Write(text);
                _slots[_next++] = null; // let big diffs go
            }
        }
    }

    public void Header(string node, RunContext context, bool noop)
    {
        var rev = context.Revision is { } r ? $", revision {r.Short}{(r.Dirty ? " (dirty)" : "")}" : "";
        _out.WriteLine(Paint($"{(noop ? "Noop run" : "Run")} of node {node} from {_displayPath(context.ManifestPath)}{rev}", "1"));
    }

    public void Summary(RunResult result)
    {
        _out.WriteLine(SummaryLine(result));
        _out.Flush();
    }

    public static string SummaryLine(RunResult result)
    {
        var s = result.Summary;
        var sb = new StringBuilder();
        sb.Append(s.Total).Append(s.Total == 1 ? " resource: " : " resources: ");
        sb.Append(result.Noop ? $"{s.WouldChange + s.Changed} would change" : $"{s.Changed} changed");
        if (!result.Noop && s.WouldChange > 0) sb.Append($", {s.WouldChange} would change (noop)");
        if (s.Unknown > 0) sb.Append($", {s.Unknown} unknown");
        sb.Append($", {s.Failed} failed, {s.Skipped} skipped in ");
        sb.Append(result.Duration.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)).Append(" s");
        if (result.Noop) sb.Append(" (noop: nothing was changed)");
        if (result.Interrupted) sb.Append(" (interrupted)");
        return sb.ToString();
    }

    /// <summary>The block for one outcome; empty for an unchanged resource unless asked to show them.</summary>
    public string Render(ResourceOutcome o, bool color, bool showUnchanged)
    {
        if (o.Status == OutcomeStatus.Unchanged)
            return showUnchanged ? Paint($"  {o.Id}", "2") + "\n" : "";
        var sb = new StringBuilder();
        var source = o.Source with { File = _displayPath(o.Source.File) };
        switch (o.Status)
        {
            case OutcomeStatus.Changed:
                sb.Append(Paint($"~ {o.Id}", "33;1")).Append(Paint($"  {source}", "2")).Append('\n');
                break;
            case OutcomeStatus.WouldChange:
                sb.Append(Paint($"~ {o.Id}", "33;1")).Append(Paint($"  {source} (would change)", "2")).Append('\n');
                break;
            case OutcomeStatus.Unknown:
                sb.Append(Paint($"? {o.Id}", "35;1")).Append(": ").Append(o.Message).Append('\n');
                break;
            case OutcomeStatus.Failed:
                sb.Append(Paint($"! {o.Id}", "31;1")).Append(Paint($"  {source}", "2")).Append('\n');
                sb.Append(Paint("    failed: ", "31")).Append(Indent(o.Message ?? "", "      ")).Append('\n');
                break;
            case OutcomeStatus.Skipped:
                sb.Append(Paint($"- {o.Id}", "2")).Append(": skipped: ").Append(o.Message).Append('\n');
                break;
        }
        foreach (var c in o.Changes) RenderChange(sb, c, showBackup: o.Status == OutcomeStatus.Changed);
        if (o.RefreshedBy.Count > 0 && (o.Refreshed || o.Status == OutcomeStatus.Unknown))
        {
            var verb = o.Status is OutcomeStatus.WouldChange or OutcomeStatus.Unknown ? "would refresh" : "refreshed";
            sb.Append("    ").Append(Paint(verb, "36")).Append(" (notified by ").Append(string.Join(", ", o.RefreshedBy)).Append(')').Append('\n');
            foreach (var c in o.RefreshChanges)
                if (c.Argv is not null) sb.Append("      $ ").Append(ShellQuote.Join(c.Argv)).Append('\n');
        }
        return sb.ToString();
    }

    private void RenderChange(StringBuilder sb, Change c, bool showBackup)
    {
        sb.Append("    ").Append(c.Property).Append(": ");
        if (c.From is null && c.To is not null) sb.Append(c.To);
        else if (c.From is not null && c.To is null) sb.Append(c.From).Append(" → (removed)");
        else sb.Append(c.From ?? "(none)").Append(" → ").Append(c.To ?? "(none)");
        sb.Append('\n');
        if (c.Argv is not null) sb.Append("      $ ").Append(ShellQuote.Join(c.Argv)).Append('\n');
        if (showBackup && c.Backup is not null) sb.Append(Paint($"      backup: {c.Backup}", "2")).Append('\n');
        if (c.UnifiedDiff is not null)
        {
            foreach (var line in c.UnifiedDiff.TrimEnd('\n').Split('\n'))
            {
                var code = line.StartsWith("+++") || line.StartsWith("---") ? "1"
                    : line.StartsWith('+') ? "32"
                    : line.StartsWith('-') ? "31"
                    : line.StartsWith("@@") ? "36" : null;
                sb.Append("      ").Append(code is null ? line : Paint(line, code)).Append('\n');
            }
        }
    }

    private string Paint(string text, string sgr) => _color ? $"\e[{sgr}m{text}\e[0m" : text;

    private static string Indent(string text, string prefix) => text.Replace("\n", "\n" + prefix);
}

/// <summary>Shows an argv the way a shell would need it typed, so a reader can copy and run it.</summary>
public static class ShellQuote
{
    public static string Join(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    public static string Quote(string arg)
    {
        if (arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))) return arg;
        return "'" + arg.Replace("'", "'\\''") + "'";
    }
}
