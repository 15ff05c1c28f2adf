using System.Globalization;
using System.Text.Json.Nodes;

namespace Converge.Remote;

/// <summary>
/// The operator's view of a fleet run: a live line per host while hosts run (redrawn in place on a
/// terminal, one line per phase change otherwise), then each host's changes, then the table.
/// </summary>
public sealed class FleetView(TextWriter progressOut, bool live)
{
    private readonly Lock _gate = new();
    private readonly List<string> _order = [];
    private readonly Dictionary<string, string> _lines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _phases = new(StringComparer.Ordinal);
    private int _drawn;
    private DateTime _lastDraw = DateTime.MinValue;

    /// <summary>Takes one host's progress; safe from any thread.</summary>
    public void Update(HostProgress p)
    {
        lock (_gate)
        {
            if (!_lines.ContainsKey(p.Host)) _order.Add(p.Host);
            var text = p.Total > 0 ? $"{p.Phase} {p.Done}/{p.Total}" : p.Phase;
            _lines[p.Host] = text;
            if (!live)
            {
                // Without a terminal a line per change of phase, not per resource: logs stay readable.
                if (_phases.TryGetValue(p.Host, out var last) && last == p.Phase) return;
                _phases[p.Host] = p.Phase;
                progressOut.WriteLine($"{p.Host}: {text}");
                return;
            }
            var now = DateTime.UtcNow;
            if (p.Phase != "done" && now - _lastDraw < TimeSpan.FromMilliseconds(100)) return;
            _lastDraw = now;
            Redraw();
        }
    }

    /// <summary>Draws the final state of every line (a terminal may have skipped the last updates).</summary>
    public void Finish()
    {
        lock (_gate) if (live) Redraw();
    }

    private void Redraw()
    {
        var width = _order.Count == 0 ? 0 : _order.Max(h => h.Length);
        if (_drawn > 0) progressOut.Write($"\x1b[{_drawn}A");
        foreach (var host in _order)
            progressOut.Write($"\r\x1b[2K{host.PadRight(width)}  {_lines[host]}\n");
        _drawn = _order.Count;
        progressOut.Flush();
    }

    /// <summary>
    /// Per host, the resources that changed, would change or failed, with their messages; with
    /// <paramref name="diffs"/> also each change's content diff. Hosts without any are left out.
    /// </summary>
    public static void WriteDetails(TextWriter w, IReadOnlyList<HostResult> results, bool diffs)
    {
        foreach (var r in results)
        {
            if (r.Report?["resources"] is not JsonArray resources) continue;
            var shown = resources.OfType<JsonObject>()
                .Where(o => (string?)o["status"] is "changed" or "would-change" or "unknown" or "failed" or "skipped").ToList();
            if (shown.Count == 0) continue;
            w.WriteLine($"== {r.Host.Name}");
            foreach (var o in shown)
            {
                w.WriteLine($"  {o["status"]}: {o["id"]}{((string?)o["message"] is { } m ? " — " + m : "")}");
                if (o["changes"] is not JsonArray changes) continue;
                foreach (var c in changes.OfType<JsonObject>())
                {
                    var argv = c["argv"] is JsonArray a ? "  $ " + string.Join(' ', a.Select(x => (string?)x)) : "";
                    w.WriteLine($"      {c["property"]}: {Value(c["from"])} -> {Value(c["to"])}{argv}");
                    if (diffs && (string?)c["diff"] is { } diff)
                        foreach (var line in diff.TrimEnd('\n').Split('\n')) w.WriteLine("        " + line);
                }
            }
        }
    }

    /// <summary>
    /// The table: host, changed, failed, duration, status; then why each failed host failed; with
    /// <paramref name="timings"/> (<c>-v</c>) also where each host's time went.
    /// </summary>
    public static void WriteTable(TextWriter w, IReadOnlyList<HostResult> results, bool timings = false)
    {
        var rows = results.Select(r => new[]
        {
            r.Host.Name,
            r.Changed.ToString(CultureInfo.InvariantCulture),
            r.Failed.ToString(CultureInfo.InvariantCulture),
            r.Status == HostStatus.NotStarted ? "-" : r.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s",
            HostStatusText.Name(r.Status),
        }).ToList();
        string[] header = ["HOST", "CHANGED", "FAILED", "DURATION", "STATUS"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(row => row[i].Length))).ToArray();
        string Line(string[] cells) =>
            string.Join("  ", cells.Select((c, i) => i is 1 or 2 or 3 ? c.PadLeft(widths[i]) : i == cells.Length - 1 ? c : c.PadRight(widths[i])));
        w.WriteLine(Line(header));
        foreach (var row in rows) w.WriteLine(Line(row));

        var failed = results.Where(r => HostStatusText.IsFailure(r.Status) && r.Message is not null).ToList();
        if (failed.Count > 0) w.WriteLine();
        foreach (var r in failed)
        {
            var lines = r.Message!.Split('\n');
            w.WriteLine($"{r.Host.Name}: {HostStatusText.Name(r.Status)}: {lines[0]}");
            foreach (var l in lines.Skip(1)) w.WriteLine("    " + l);
        }
        if (timings)
        {
            // Hosts that never connected have no phase to show.
            var timed = results.Where(r => r.Timings.Connect is not null).ToList();
            if (timed.Count > 0) w.WriteLine();
            var width = timed.Count == 0 ? 0 : timed.Max(r => r.Host.Name.Length);
            foreach (var r in timed) w.WriteLine($"{(r.Host.Name + ":").PadRight(width + 1)} {r.Timings}");
        }
        var counts = results.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {HostStatusText.Name(g.Key)}");
        w.WriteLine($"{results.Count} host{(results.Count == 1 ? "" : "s")}: {string.Join(", ", counts)}");
    }

    private static string Value(JsonNode? v) => v is null ? "(none)" : v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v.ToJsonString();
}
