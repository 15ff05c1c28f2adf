using System.Globalization;
using Converge.Engine;
using Converge.Reporting;
using Converge.Reporting.History;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge report show last|RUNID [--json]</c>: one stored run in full, rendered as <c>apply</c>
/// printed it (every change with its diff; the report was redacted when it was written), or the stored
/// JSON as it is. Reads only.
/// </summary>
public sealed class ReportCommand(Settings settings)
{
    public int Show(string name, bool json)
    {
        var history = new ReportHistory(settings.EffectiveStateDir);
        if (history.Resolve(name, skipNoop: false, out var error) is not { } runId)
        {
            Console.Error.WriteLine($"converge: report show: {error}");
            return ExitCodes.Usage;
        }
        var path = history.PathOf(runId);
        if (json)
        {
            Console.Out.Flush();
            using var stdout = Console.OpenStandardOutput();
            using var file = File.OpenRead(path);
            file.CopyTo(stdout);
            return ExitCodes.Ok;
        }
        if (StoredReport.Read(path) is not { } report)
        {
            Console.Error.WriteLine($"converge: report show: {path} is not a converge report (or cannot be read)");
            return ExitCodes.Failures;
        }
        var o = Console.Out;
        var rev = report.Commit is { } c ? $", revision {(c.Length > 7 ? c[..7] : c)}{(report.Dirty ? " (dirty)" : "")}" : "";
        o.WriteLine($"{(report.Noop ? "Noop run" : "Run")} {report.RunId} of node {report.Node} from {ManifestPipeline.DisplayPath(report.ManifestPath)}{rev}");
        var who = report.SudoUser is { } sudo ? $"{report.User} (sudo: {sudo})" : report.User;
        o.WriteLine($"  started {report.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC by {who}, exit code {report.ExitCode}");
        if (report.UndoOf is { } of) o.WriteLine($"  undo of run {of}");
        if (report.Raw["undo"]?["cannotUndo"] is System.Text.Json.Nodes.JsonArray cannot)
            foreach (var line in cannot) o.WriteLine($"  not undone: {line}");
        if (report.Raw["undo"]?["drifted"] is System.Text.Json.Nodes.JsonArray drifted)
            foreach (var line in drifted) o.WriteLine($"  drift: {line}");
        if (report.Raw["restore"] is { } restore)
            o.WriteLine($"  restore of {restore["sha256"]} to {restore["path"]}");
        foreach (var e in report.Errors) o.WriteLine($"  error: {e}");

        var renderer = new ConsoleRenderer(o, [], settings.Color, showUnchanged: settings.Verbosity > 0, ManifestPipeline.DisplayPath);
        foreach (var outcome in report.Outcomes)
        {
            var text = renderer.Render(outcome, settings.Color, settings.Verbosity > 0);
            if (text.Length > 0) o.Write(text);
        }
        var result = new RunResult(report.Outcomes, report.Noop, report.Interrupted, TimeSpan.FromMilliseconds(report.DurationMs));
        o.WriteLine(ConsoleRenderer.SummaryLine(result));
        return ExitCodes.Ok;
    }
}
