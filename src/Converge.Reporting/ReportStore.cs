using System.Text.Json.Nodes;
using Converge.Engine;

namespace Converge.Reporting;

/// <summary>
/// Keeps run reports in <c>STATE/reports/RUNID.json</c> and the last run's summary in
/// <c>STATE/last_run.json</c> (for monitoring). Reports beyond <see cref="Keep"/>, or older than
/// <see cref="MaxAge"/>, are pruned, oldest first; the newest report is always kept.
/// </summary>
public sealed class ReportStore(string stateDirectory)
{
    public int Keep { get; init; } = 200;

    /// <summary>Reports whose run started longer ago than this are pruned (null: kept until <see cref="Keep"/> pushes them out).</summary>
    public TimeSpan? MaxAge { get; init; }

    public string ReportsDirectory => Path.Combine(stateDirectory, "reports");

    public string LastRunPath => Path.Combine(stateDirectory, "last_run.json");

    /// <summary>Writes the report (and last_run.json) atomically; returns the report's path.</summary>
    public string Save(RunContext context, string reportJson, RunResult result, DateTimeOffset finishedAt)
        => Save(context, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(reportJson)), result, finishedAt);

    /// <summary>
    /// As above, with the report streamed by <paramref name="writeReport"/> (a 10,000-resource report is
    /// megabytes). Members of <paramref name="lastRunExtra"/> (the agent's revision and fallback fields)
    /// are added to last_run.json.
    /// </summary>
    public string Save(RunContext context, Action<Stream> writeReport, RunResult result, DateTimeOffset finishedAt, JsonObject? lastRunExtra = null)
    {
        var s = result.Summary;
        var last = new JsonObject
        {
            ["formatVersion"] = 1,
            ["runId"] = context.RunId,
            ["finishedAt"] = finishedAt.ToString("O"),
            ["noop"] = result.Noop,
            ["revision"] = context.Revision?.Commit,
            ["exitCode"] = result.ExitCode,
            ["durationMs"] = Math.Round(result.Duration.TotalMilliseconds, 1),
            ["resources"] = s.Total,
            ["changed"] = s.Changed,
            ["wouldChange"] = s.WouldChange,
            ["failed"] = s.Failed,
            ["skipped"] = s.Skipped,
        };
        return SaveWith(context, writeReport, last, lastRunExtra);
    }

    /// <summary>
    /// Saves the report of a run that did not reach the engine (see <see cref="RunReport.WriteFailure"/>)
    /// and a last_run.json saying so, with <paramref name="exitCode"/> and no resource counts.
    /// </summary>
    public string SaveFailure(RunContext context, Action<Stream> writeReport, int exitCode, DateTimeOffset finishedAt, JsonObject? lastRunExtra = null)
    {
        var last = new JsonObject
        {
            ["formatVersion"] = 1,
            ["runId"] = context.RunId,
            ["finishedAt"] = finishedAt.ToString("O"),
            ["noop"] = false,
            ["revision"] = context.Revision?.Commit,
            ["exitCode"] = exitCode,
            ["durationMs"] = Math.Round((finishedAt - context.StartedAt).TotalMilliseconds, 1),
            ["resources"] = 0,
            ["changed"] = 0,
            ["wouldChange"] = 0,
            ["failed"] = 0,
            ["skipped"] = 0,
        };
        return SaveWith(context, writeReport, last, lastRunExtra);
    }

    private string SaveWith(RunContext context, Action<Stream> writeReport, JsonObject last, JsonObject? extra)
    {
        Directory.CreateDirectory(ReportsDirectory);
        var path = Path.Combine(ReportsDirectory, context.RunId + ".json");
        StateFiles.WriteAtomic(path, writeReport);
        last["report"] = path;
        if (extra is not null)
            foreach (var (key, value) in extra)
                last[key] = value?.DeepClone();
        WriteLastRun(last);
        Prune(context.StartedAt);
        return path;
    }

    /// <summary>Replaces last_run.json with <paramref name="summary"/> (atomically).</summary>
    public void WriteLastRun(JsonObject summary)
        => StateFiles.WriteAtomic(LastRunPath,
            summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");

    /// <summary>last_run.json as written, or null when there is none (or it cannot be parsed).</summary>
    public JsonObject? ReadLastRun()
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(LastRunPath)) as JsonObject;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        var files = Directory.GetFiles(ReportsDirectory, "*.json");
        Array.Sort(files, StringComparer.Ordinal); // run ids sort by time
        var remove = Math.Max(0, files.Length - Keep);
        if (MaxAge is { } age)
        {
            // The run id starts with the run's UTC start time; the newest report is never pruned by age.
            var cutoff = now - age;
            for (var i = remove; i < files.Length - 1 && StartedAt(files[i]) is { } t && t < cutoff; i++)
                remove = i + 1;
        }
        foreach (var f in files.Take(remove)) File.Delete(f);
    }

    private static DateTimeOffset? StartedAt(string reportPath)
    {
        var name = Path.GetFileNameWithoutExtension(reportPath);
        return name.Length >= 16 && DateTimeOffset.TryParseExact(name[..16], "yyyyMMdd'T'HHmmss'Z'",
            System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : null;
    }
}
