using System.Text;
using System.Text.Json;
using Converge.Engine;
using Converge.Providers.Contract;

namespace Converge.Reporting;

/// <summary>
/// The versioned JSON report of one run: who, where, which revision, every resource's outcome with its
/// changes (already redacted by the engine), and the exit code. One file per run in the state dir's
/// <c>reports/</c>; the same document is what <c>--json</c> prints.
/// </summary>
public static class RunReport
{
    public const int FormatVersion = 1;

    public static string StatusName(OutcomeStatus s) => s switch
    {
        OutcomeStatus.Unchanged => "unchanged",
        OutcomeStatus.Changed => "changed",
        OutcomeStatus.WouldChange => "would-change",
        OutcomeStatus.Unknown => "unknown",
        OutcomeStatus.Failed => "failed",
        OutcomeStatus.Skipped => "skipped",
        _ => s.ToString().ToLowerInvariant(),
    };

    /// <summary>The report as text (tests and small runs; large runs stream with <see cref="Write"/>).</summary>
    public static string ToJson(RunContext context, string node, RunResult result, DateTimeOffset finishedAt)
    {
        var buffer = new MemoryStream();
        Write(buffer, context, node, result, finishedAt);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Writes the report as UTF-8 JSON (ending in a newline) to <paramref name="stream"/>. The agent
    /// passes <paramref name="agent"/> (source, revision transition, fallback); it is written as the
    /// <c>agent</c> member, which manual runs leave out. <paramref name="indented"/> false puts the report
    /// on one line (the last event of <c>apply --events jsonl</c>). Members of <paramref name="extra"/>
    /// are written after <c>manifest</c> (<c>undo</c> and <c>restore</c> runs describe themselves there).
    /// </summary>
    public static void Write(Stream stream, RunContext context, string node, RunResult result, DateTimeOffset finishedAt,
        System.Text.Json.Nodes.JsonObject? agent = null, bool indented = true, System.Text.Json.Nodes.JsonObject? extra = null)
    {
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = Relaxed }))
        {
            w.WriteStartObject();
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("runId", context.RunId);
            w.WriteString("host", context.Host);
            w.WriteString("node", node);
            w.WriteString("user", context.User);
            WriteNullable(w, "sudoUser", context.SudoUser);
            WriteWho(w, context);
            w.WriteBoolean("noop", result.Noop);
            w.WriteString("startedAt", context.StartedAt.ToString("O"));
            w.WriteString("finishedAt", finishedAt.ToString("O"));
            w.WriteNumber("durationMs", Math.Round(result.Duration.TotalMilliseconds, 1));
            WriteManifest(w, context);
            WritePlan(w, context);
            if (agent is not null)
            {
                w.WritePropertyName("agent");
                agent.WriteTo(w);
            }
            if (extra is not null)
                foreach (var (name, value) in extra)
                {
                    w.WritePropertyName(name);
                    if (value is null) w.WriteNullValue();
                    else value.WriteTo(w);
                }

            var s = result.Summary;
            w.WriteStartObject("summary");
            w.WriteNumber("total", s.Total);
            w.WriteNumber("unchanged", s.Unchanged);
            w.WriteNumber("changed", s.Changed);
            w.WriteNumber("wouldChange", s.WouldChange);
            w.WriteNumber("unknown", s.Unknown);
            w.WriteNumber("failed", s.Failed);
            w.WriteNumber("skipped", s.Skipped);
            w.WriteEndObject();
            w.WriteNumber("exitCode", result.ExitCode);
            w.WriteBoolean("interrupted", result.Interrupted);

            w.WriteStartArray("resources");
            foreach (var o in result.Outcomes) WriteOutcome(w, o);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// The report of a run that never reached the engine: the manifests at the revision did not load or
    /// compile, or the agent's cycle failed before converging. Same format as a run's report, with no
    /// resources, the exit code, and the <paramref name="errors"/> (one diagnostic or message each).
    /// </summary>
    public static void WriteFailure(Stream stream, RunContext context, string node, IReadOnlyList<string> errors, int exitCode,
        DateTimeOffset finishedAt, System.Text.Json.Nodes.JsonObject? agent = null)
    {
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = Relaxed }))
        {
            w.WriteStartObject();
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("runId", context.RunId);
            w.WriteString("host", context.Host);
            w.WriteString("node", node);
            w.WriteString("user", context.User);
            WriteNullable(w, "sudoUser", context.SudoUser);
            WriteWho(w, context);
            w.WriteBoolean("noop", false);
            w.WriteString("startedAt", context.StartedAt.ToString("O"));
            w.WriteString("finishedAt", finishedAt.ToString("O"));
            w.WriteNumber("durationMs", Math.Round((finishedAt - context.StartedAt).TotalMilliseconds, 1));
            WriteManifest(w, context);
            WritePlan(w, context);
            if (agent is not null)
            {
                w.WritePropertyName("agent");
                agent.WriteTo(w);
            }
            w.WriteStartObject("summary");
            foreach (var name in new[] { "total", "unchanged", "changed", "wouldChange", "unknown", "failed", "skipped" })
                w.WriteNumber(name, 0);
            w.WriteEndObject();
            w.WriteNumber("exitCode", exitCode);
            w.WriteBoolean("interrupted", false);
            w.WriteStartArray("errors");
            foreach (var e in errors) w.WriteStringValue(e);
            w.WriteEndArray();
            w.WriteStartArray("resources");
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// The <c>who</c> block: everyone with a hand in the run, in one place (the top-level <c>user</c> and
    /// <c>sudoUser</c> stay for readers of older reports): the local user, who ran sudo, the revision's
    /// git author and committer, and the operator who pushed the run with <c>converge ssh</c>.
    /// </summary>
    private static void WriteWho(Utf8JsonWriter w, RunContext context)
    {
        w.WriteStartObject("who");
        w.WriteString("user", context.User);
        WriteNullable(w, "sudoUser", context.SudoUser);
        WriteNullable(w, "author", context.Revision?.Author);
        WriteNullable(w, "committer", context.Revision?.Committer);
        WriteNullable(w, "operator", context.Operator);
        w.WriteEndObject();
    }

    private static void WriteManifest(Utf8JsonWriter w, RunContext context)
    {
        w.WriteStartObject("manifest");
        w.WriteString("path", context.ManifestPath);
        if (context.Revision is { } rev)
        {
            w.WriteStartObject("revision");
            WriteNullable(w, "commit", rev.Commit);
            WriteNullable(w, "author", rev.Author);
            WriteNullable(w, "committer", rev.Committer);
            WriteNullable(w, "subject", rev.Subject);
            WriteNullable(w, "date", rev.Date?.ToString("O"));
            w.WriteBoolean("dirty", rev.Dirty);
            w.WriteEndObject();
        }
        else w.WriteNull("revision");
        w.WriteEndObject();
    }

    /// <summary>The reviewed plan an <c>apply --plan</c> applied or refused (docs/plans.md); nothing for other runs.</summary>
    private static void WritePlan(Utf8JsonWriter w, RunContext context)
    {
        if (context.Plan is not { } plan) return;
        w.WriteStartObject("plan");
        w.WriteString("id", plan.Id);
        w.WriteString("digest", plan.Digest);
        w.WriteString("path", plan.Path);
        w.WriteEndObject();
    }

    private static readonly System.Text.Encodings.Web.JavaScriptEncoder Relaxed = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>
    /// One line of <c>apply --events jsonl</c>: <c>{"event":"resource", ...}</c> with the same fields as the
    /// resource's entry in the report, plus <c>done</c> and <c>total</c> (how far the run has got).
    /// </summary>
    public static string ResourceEvent(ResourceOutcome outcome, int done, int total)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Relaxed }))
        {
            w.WriteStartObject();
            w.WriteString("event", "resource");
            w.WriteNumber("done", done);
            w.WriteNumber("total", total);
            w.WritePropertyName("resource");
            WriteOutcome(w, outcome);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteOutcome(Utf8JsonWriter w, ResourceOutcome o)
    {
        w.WriteStartObject();
        w.WriteString("id", o.Id.ToString());
        w.WriteString("type", o.Id.Type);
        w.WriteString("title", o.Id.Title);
        w.WriteString("status", StatusName(o.Status));
        w.WriteString("source", o.Source.ToString());
        w.WriteNumber("durationMs", Math.Round(o.Duration.TotalMilliseconds, 2));
        if (o.Message is not null) w.WriteString("message", o.Message);
        if (o.Changes.Count > 0) WriteChanges(w, "changes", o.Changes);
        if (o.RefreshedBy.Count > 0)
        {
            w.WriteStartArray("refreshedBy");
            foreach (var r in o.RefreshedBy) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteBoolean("refreshed", o.Refreshed);
        }
        if (o.RefreshChanges.Count > 0) WriteChanges(w, "refreshChanges", o.RefreshChanges);
        if (o.Before is not null) WritePathState(w, "before", o.Before);
        if (o.After is not null) WritePathState(w, "after", o.After);
        w.WriteEndObject();
    }

    private static void WritePathState(Utf8JsonWriter w, string name, PathState s)
    {
        w.WriteStartObject(name);
        w.WriteString("kind", s.Kind);
        if (s.Sha256 is not null) w.WriteString("sha256", s.Sha256);
        if (s.Size is { } size) w.WriteNumber("size", size);
        if (s.Mode is not null) w.WriteString("mode", s.Mode);
        if (s.Uid is { } uid) w.WriteNumber("uid", uid);
        if (s.Gid is { } gid) w.WriteNumber("gid", gid);
        if (s.Owner is not null) w.WriteString("owner", s.Owner);
        if (s.Group is not null) w.WriteString("group", s.Group);
        if (s.Target is not null) w.WriteString("target", s.Target);
        if (s.Sensitive) w.WriteBoolean("sensitive", true);
        w.WriteEndObject();
    }

    /// <summary>Reads a path state written by the report (the inverse of the writer above).</summary>
    public static PathState ReadPathState(JsonElement e)
    {
        string? S(string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        int? I(string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
        return new PathState(S("kind") ?? "absent")
        {
            Sha256 = S("sha256"),
            Size = e.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number ? size.GetInt64() : null,
            Mode = S("mode"),
            Uid = I("uid"),
            Gid = I("gid"),
            Owner = S("owner"),
            Group = S("group"),
            Target = S("target"),
            Sensitive = e.TryGetProperty("sensitive", out var sens) && sens.ValueKind == JsonValueKind.True,
        };
    }

    /// <summary>
    /// Writes changes as reports show them (also the plan file's format, which leaves out
    /// <paramref name="withBackup"/>: a plan is read before anything is backed up).
    /// </summary>
    internal static void WriteChanges(Utf8JsonWriter w, string name, IReadOnlyList<Change> changes, bool withBackup = true)
    {
        w.WriteStartArray(name);
        foreach (var c in changes)
        {
            w.WriteStartObject();
            w.WriteString("property", c.Property);
            WriteNullable(w, "from", c.From);
            WriteNullable(w, "to", c.To);
            if (c.Argv is not null)
            {
                w.WriteStartArray("argv");
                foreach (var a in c.Argv) w.WriteStringValue(a);
                w.WriteEndArray();
            }
            if (c.UnifiedDiff is not null) w.WriteString("diff", c.UnifiedDiff);
            if (withBackup && c.Backup is not null) w.WriteString("backup", c.Backup);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    internal static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
