using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Reporting.History;

/// <summary>
/// A report read back from <c>STATE/reports/RUNID.json</c>: the header (who, when, revision, counts)
/// and, when loaded in full, every resource's outcome as the engine produced it (already redacted when
/// it was written). <see cref="Raw"/> is the header as JSON, for members this type does not model.
/// </summary>
public sealed record StoredReport
{
    public required string Path { get; init; }
    public required string RunId { get; init; }
    public required JsonObject Raw { get; init; }
    public string Node => Str("node") ?? "";
    public string User => Str("user") ?? "";
    public string? SudoUser => Str("sudoUser");
    public bool Noop => Raw["noop"]?.GetValue<bool>() ?? false;
    public DateTimeOffset StartedAt => DateTimeOffset.Parse(Str("startedAt") ?? "0001-01-01T00:00:00Z", CultureInfo.InvariantCulture);
    public double DurationMs => Raw["durationMs"]?.GetValue<double>() ?? 0;
    public int ExitCode => Raw["exitCode"]?.GetValue<int>() ?? 0;
    public bool Interrupted => Raw["interrupted"]?.GetValue<bool>() ?? false;
    public string ManifestPath => Raw["manifest"]?["path"]?.GetValue<string>() ?? "";
    public string? Commit => Raw["manifest"]?["revision"]?["commit"]?.GetValue<string>();
    public bool Dirty => Raw["manifest"]?["revision"]?["dirty"]?.GetValue<bool>() ?? false;
    public int Changed => Count("changed");
    public int Failed => Count("failed");
    public int WouldChange => Count("wouldChange");

    /// <summary>The run this one undid (<c>undo.of</c>), or null.</summary>
    public string? UndoOf => Raw["undo"]?["of"]?.GetValue<string>();

    /// <summary>True for a <c>converge bucket restore</c> run.</summary>
    public bool IsRestore => Raw["restore"] is not null;

    /// <summary>True for a run the agent made.</summary>
    public bool IsAgent => Raw["agent"] is not null;

    /// <summary>Messages of a run that never reached the engine (<c>errors</c>).</summary>
    public IReadOnlyList<string> Errors => Raw["errors"] is JsonArray a ? a.Select(e => e?.GetValue<string>() ?? "").ToList() : [];

    /// <summary>The resources' outcomes, in the report's (graph) order; empty when only the header was read.</summary>
    public IReadOnlyList<ResourceOutcome> Outcomes { get; init; } = [];

    /// <summary>What kind of run: <c>noop</c>, <c>undo</c>, <c>restore</c>, <c>agent</c> or <c>apply</c>.</summary>
    public string Kind => Noop ? "noop" : UndoOf is not null ? "undo" : IsRestore ? "restore" : IsAgent ? "agent" : "apply";

    private string? Str(string name) => Raw[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private int Count(string name) => Raw["summary"]?[name]?.GetValue<int>() ?? 0;

    /// <summary>
    /// Reads only the members before <c>resources</c> (the writer puts every header member first), so
    /// listing a hundred runs does not parse a hundred resource lists. Null when the file is not a report.
    /// </summary>
    public static StoredReport? ReadHeader(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var reader = new Utf8JsonReader(bytes);
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("resources"u8))
                {
                    var head = System.Text.Encoding.UTF8.GetString(bytes, 0, (int)reader.TokenStartIndex).TrimEnd().TrimEnd(',');
                    return Of(path, JsonNode.Parse(head + "}") as JsonObject);
                }
            }
            return Of(path, JsonNode.Parse(bytes) as JsonObject);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Reads the whole report, outcomes included. Null when the file is not a report.</summary>
    public static StoredReport? Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            var header = new JsonObject();
            foreach (var p in root.EnumerateObject())
                if (p.Name != "resources") header[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            var report = Of(path, header);
            if (report is null) return null;
            var outcomes = new List<ResourceOutcome>();
            if (root.TryGetProperty("resources", out var resources))
                foreach (var r in resources.EnumerateArray()) outcomes.Add(ReadOutcome(r));
            return report with { Outcomes = outcomes };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static StoredReport? Of(string path, JsonObject? raw)
    {
        if (raw?["runId"] is not JsonValue id || !id.TryGetValue<string>(out var runId)) return null;
        return new StoredReport { Path = path, RunId = runId, Raw = raw };
    }

    private static ResourceOutcome ReadOutcome(JsonElement r)
    {
        var idText = r.GetProperty("id").GetString()!;
        var id = ResourceId.TryParse(idText, out var parsed) ? parsed : new ResourceId(r.GetProperty("type").GetString()!, r.GetProperty("title").GetString()!);
        var status = ParseStatus(r.GetProperty("status").GetString()!);
        var changes = r.TryGetProperty("changes", out var c) ? ReadChanges(c) : [];
        return new ResourceOutcome(id, status, changes, TimeSpan.FromMilliseconds(r.GetProperty("durationMs").GetDouble()),
            ParseSpan(r.GetProperty("source").GetString()!))
        {
            Message = r.TryGetProperty("message", out var m) ? m.GetString() : null,
            RefreshedBy = r.TryGetProperty("refreshedBy", out var rb) ? rb.EnumerateArray().Select(x => x.GetString()!).ToList() : [],
            Refreshed = r.TryGetProperty("refreshed", out var rf) && rf.GetBoolean(),
            RefreshChanges = r.TryGetProperty("refreshChanges", out var rc) ? ReadChanges(rc) : [],
            Before = r.TryGetProperty("before", out var b) ? RunReport.ReadPathState(b) : null,
            After = r.TryGetProperty("after", out var a) ? RunReport.ReadPathState(a) : null,
        };
    }

    private static List<Change> ReadChanges(JsonElement array)
    {
        var list = new List<Change>();
        foreach (var c in array.EnumerateArray())
        {
            string? S(string n) => c.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            list.Add(new Change(c.GetProperty("property").GetString()!, S("from"), S("to"),
                c.TryGetProperty("argv", out var argv) ? argv.EnumerateArray().Select(x => x.GetString()!).ToList() : null,
                S("diff")) { Backup = S("backup") });
        }
        return list;
    }

    private static OutcomeStatus ParseStatus(string name) => name switch
    {
        "unchanged" => OutcomeStatus.Unchanged,
        "changed" => OutcomeStatus.Changed,
        "would-change" => OutcomeStatus.WouldChange,
        "unknown" => OutcomeStatus.Unknown,
        "failed" => OutcomeStatus.Failed,
        "skipped" => OutcomeStatus.Skipped,
        _ => throw new FormatException($"unknown status '{name}'"),
    };

    /// <summary>The inverse of <see cref="SourceSpan.ToString"/>: <c>file:line:col</c>.</summary>
    public static SourceSpan ParseSpan(string text)
    {
        var col = text.LastIndexOf(':');
        var line = col > 0 ? text.LastIndexOf(':', col - 1) : -1;
        if (line > 0
            && int.TryParse(text[(line + 1)..col], NumberStyles.None, CultureInfo.InvariantCulture, out var l)
            && int.TryParse(text[(col + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var c))
            return new SourceSpan(text[..line], l, c, l, c);
        return SourceSpan.None;
    }
}
