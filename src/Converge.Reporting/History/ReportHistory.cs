namespace Converge.Reporting.History;

/// <summary>
/// The stored reports of a host (<c>STATE/reports/</c>), newest first, and the names users give runs:
/// <c>last</c> or a run id (a unique prefix of one is accepted too).
/// </summary>
public sealed class ReportHistory(string stateDirectory)
{
    public string ReportsDirectory => Path.Combine(stateDirectory, "reports");

    /// <summary>Every report's run id, newest first (run ids sort by time).</summary>
    public IReadOnlyList<string> RunIds()
    {
        if (!Directory.Exists(ReportsDirectory)) return [];
        var ids = Directory.GetFiles(ReportsDirectory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).ToList();
        ids.Sort(StringComparer.Ordinal);
        ids.Reverse();
        return ids;
    }

    public string PathOf(string runId) => Path.Combine(ReportsDirectory, runId + ".json");

    /// <summary>
    /// The headers of the newest <paramref name="count"/> reports, newest first (unreadable files skipped).
    /// </summary>
    public IReadOnlyList<StoredReport> Recent(int count)
    {
        var list = new List<StoredReport>();
        foreach (var id in RunIds())
        {
            if (list.Count >= count) break;
            if (StoredReport.ReadHeader(PathOf(id)) is { } r) list.Add(r);
        }
        return list;
    }

    /// <summary>
    /// The run id <paramref name="name"/> refers to: <c>last</c> is the newest report (with
    /// <paramref name="skipNoop"/>, the newest that is not a --noop run); otherwise a run id or a unique
    /// prefix of one. Null with <paramref name="error"/> saying why when there is no such run.
    /// </summary>
    public string? Resolve(string name, bool skipNoop, out string? error)
    {
        error = null;
        var ids = RunIds();
        if (name == "last")
        {
            foreach (var id in ids)
            {
                if (!skipNoop) return id;
                if (StoredReport.ReadHeader(PathOf(id)) is { Noop: false }) return id;
            }
            error = ids.Count == 0
                ? $"no runs recorded in {ReportsDirectory}"
                : $"no run in {ReportsDirectory} changed anything (every report there is a --noop run)";
            return null;
        }
        if (ids.Contains(name)) return name;
        var matches = ids.Where(i => i.StartsWith(name, StringComparison.Ordinal)).ToList();
        if (matches.Count == 1 && name.Length >= 4) return matches[0];
        error = matches.Count > 1
            ? $"run id '{name}' is ambiguous: it starts {matches.Count} runs ({string.Join(", ", matches.Take(3))}…)"
            : $"no run '{name}' in {ReportsDirectory} (see 'converge history'; older reports are pruned as retention.reports says)";
        return null;
    }
}
