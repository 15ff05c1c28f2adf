using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Engine;
using Converge.Reporting;
using Converge.Reporting.History;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge history [-n N] [--json]</c>: the newest runs on this host from the stored reports, one
/// line each (run id, start, who, revision, kind, changed, failed, duration). Reads only.
/// </summary>
public sealed class HistoryCommand(Settings settings)
{
    public int Run(int count, bool json)
    {
        if (count < 1)
        {
            Console.Error.WriteLine("converge: history: -n must be at least 1");
            return ExitCodes.Usage;
        }
        var reports = new ReportHistory(settings.EffectiveStateDir).Recent(count);
        if (json)
        {
            var array = new JsonArray();
            foreach (var r in reports)
                array.Add(new JsonObject
                {
                    ["runId"] = r.RunId,
                    ["kind"] = r.Kind,
                    ["startedAt"] = r.StartedAt.ToString("O", CultureInfo.InvariantCulture),
                    ["user"] = r.User,
                    ["sudoUser"] = r.SudoUser,
                    ["revision"] = r.Commit,
                    ["dirty"] = r.Dirty,
                    ["noop"] = r.Noop,
                    ["undoOf"] = r.UndoOf,
                    ["changed"] = r.Changed,
                    ["wouldChange"] = r.WouldChange,
                    ["failed"] = r.Failed,
                    ["exitCode"] = r.ExitCode,
                    ["durationMs"] = r.DurationMs,
                    ["report"] = r.Path,
                });
            Console.Out.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }
        if (reports.Count == 0)
        {
            Console.Out.WriteLine($"No runs recorded in {Path.Combine(settings.EffectiveStateDir, "reports")}.");
            return ExitCodes.Ok;
        }
        var rows = new List<string[]> { new[] { "RUN ID", "STARTED (UTC)", "USER", "REVISION", "KIND", "CHANGED", "FAILED", "DURATION" } };
        foreach (var r in reports)
        {
            var who = r.SudoUser is { } sudo ? $"{r.User} (sudo: {sudo})" : r.User;
            var rev = r.Commit is { } c ? (c.Length > 7 ? c[..7] : c) + (r.Dirty ? "+dirty" : "") : "-";
            var kind = r.UndoOf is { } of ? $"{(r.Noop ? "noop undo" : "undo")} of {of}" : r.Kind;
            var changed = r.Noop ? $"{r.WouldChange} (would)" : r.Changed.ToString(CultureInfo.InvariantCulture);
            var failed = r.Errors.Count > 0 && r.Failed == 0 ? "load error" : r.Failed.ToString(CultureInfo.InvariantCulture);
            rows.Add([r.RunId, r.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), who, rev, kind, changed, failed,
                (r.DurationMs / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s"]);
        }
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length)).ToArray();
        foreach (var row in rows)
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        return ExitCodes.Ok;
    }
}
