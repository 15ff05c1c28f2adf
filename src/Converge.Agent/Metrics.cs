using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Converge.Engine;

namespace Converge.Agent;

/// <summary>
/// The last run's summary as Prometheus text-format metrics in <c>DIR/converge.prom</c>, for the node
/// exporter's textfile collector. Written atomically (temp file + rename), as the collector requires:
/// it may read the directory at any moment.
/// </summary>
public static class Metrics
{
    public const string FileName = "converge.prom";

    public static void Write(string directory, JsonObject lastRun, DateTimeOffset? lastSuccess)
    {
        var b = new StringBuilder();
        void Gauge(string name, string help, double? value, string labels = "")
        {
            if (value is null) return;
            b.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            b.Append("# TYPE ").Append(name).Append(" gauge\n");
            b.Append(name).Append(labels).Append(' ').Append(value.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        double? Num(string key) => lastRun[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
        double Flag(string key) => lastRun[key] is JsonValue v && v.TryGetValue<bool>(out var f) && f ? 1 : 0;

        var finished = DateTimeOffset.TryParse((string?)lastRun["finishedAt"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : (DateTimeOffset?)null;
        Gauge("converge_last_run_timestamp_seconds", "When the last agent run finished (Unix time).", finished?.ToUnixTimeMilliseconds() / 1000.0);
        Gauge("converge_last_run_duration_seconds", "How long the last run took.", Num("durationMs") / 1000.0);
        Gauge("converge_last_run_exit_code", "The last run's detailed exit code (0 nothing to do, 2 changes, 4 failures, 6 both, 1 manifests broken).", Num("exitCode"));
        foreach (var (key, status) in new[] { ("changed", "changed"), ("wouldChange", "would_change"), ("failed", "failed"), ("skipped", "skipped") })
        {
            var value = Num(key);
            if (value is null) continue;
            if (key == "changed") b.Append("# HELP converge_last_run_resources Resources of the last run by outcome.\n# TYPE converge_last_run_resources gauge\n");
            b.Append("converge_last_run_resources{status=\"").Append(status).Append("\"} ")
                .Append(value.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        Gauge("converge_last_run_resources_total", "Resources in the last run's catalog.", Num("resources"));
        Gauge("converge_last_run_fallback", "1 when the last run converged a fallback revision (the wanted one was broken or the source unreachable).", Flag("fallback"));
        Gauge("converge_agent_disabled", "1 while the agent is disabled (converge agent disable).", lastRun["disabled"] is JsonObject ? 1 : 0);
        Gauge("converge_last_success_timestamp_seconds", "When a run last finished without failures (Unix time).", lastSuccess?.ToUnixTimeMilliseconds() / 1000.0);
        if ((string?)lastRun["revision"] is { } commit)
        {
            b.Append("# HELP converge_revision_info The revision the last run converged.\n# TYPE converge_revision_info gauge\n");
            b.Append("converge_revision_info{commit=\"").Append(commit).Append("\"} 1\n");
        }
        Directory.CreateDirectory(directory);
        StateFiles.WriteAtomic(Path.Combine(directory, FileName), b.ToString());
    }
}
