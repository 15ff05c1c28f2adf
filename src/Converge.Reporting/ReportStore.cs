using Converge.Engine;

namespace Converge.Reporting;

/// <summary>
/// Keeps run reports in <c>STATE/reports/RUNID.json</c> and the last run's summary in
/// <c>STATE/last_run.json</c> (for monitoring). Reports beyond <see cref="Keep"/> are pruned, oldest first.
/// </summary>
public sealed class ReportStore(string stateDirectory)
{
    public int Keep { get; init; } = 200;

    public string ReportsDirectory => Path.Combine(stateDirectory, "reports");

    /// <summary>Writes the report (and last_run.json) atomically; returns the report's path.</summary>
    public string Save(RunContext context, string reportJson, RunResult result, DateTimeOffset finishedAt)
        => Save(context, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(reportJson)), result, finishedAt);

    /// <summary>As above, with the report streamed by <paramref name="writeReport"/> (a 10,000-resource report is megabytes).</summary>
    public string Save(RunContext context, Action<Stream> writeReport, RunResult result, DateTimeOffset finishedAt)
    {
        Directory.CreateDirectory(ReportsDirectory);
        var path = Path.Combine(ReportsDirectory, context.RunId + ".json");
        StateFiles.WriteAtomic(path, writeReport);

        var s = result.Summary;
        var last = new System.Text.Json.Nodes.JsonObject
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
            ["report"] = path,
        };
        StateFiles.WriteAtomic(Path.Combine(stateDirectory, "last_run.json"),
            last.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        Prune();
        return path;
    }

    private void Prune()
    {
        var files = Directory.GetFiles(ReportsDirectory, "*.json");
        if (files.Length <= Keep) return;
        Array.Sort(files, StringComparer.Ordinal); // run ids sort by time
        foreach (var f in files.Take(files.Length - Keep)) File.Delete(f);
    }
}
