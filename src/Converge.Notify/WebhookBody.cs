using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Converge.Notify;

/// <summary>The two webhook bodies (docs/notifications.md shows both): generic JSON, and Slack/Mattermost <c>{"text": ...}</c>.</summary>
public static class WebhookBody
{
    public const int FormatVersion = 1;

    /// <summary>The link to the revision diff: <c>{{old}}</c>, <c>{{new}}</c> and <c>{{host}}</c> replaced; null when either commit is unknown.</summary>
    public static string? Link(string? template, RunNotice n)
    {
        if (template is null || n.Revision?.Commit is not { } now) return null;
        var old = n.PreviousRevision ?? now;
        return template.Replace("{{old}}", Uri.EscapeDataString(old), StringComparison.Ordinal)
            .Replace("{{new}}", Uri.EscapeDataString(now), StringComparison.Ordinal)
            .Replace("{{host}}", Uri.EscapeDataString(n.Host), StringComparison.Ordinal);
    }

    public static string Build(WebhookFormat format, RunNotice n, string? linkTemplate)
        => format == WebhookFormat.Slack ? Slack(n, linkTemplate) : Json(n, linkTemplate);

    /// <summary>The generic body: one JSON object, the same field names as the report where they exist.</summary>
    public static string Json(RunNotice n, string? linkTemplate)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("event", "run");
            w.WriteString("host", n.Host);
            w.WriteString("node", n.Node);
            w.WriteString("runId", n.RunId);
            w.WriteBoolean("noop", n.Noop);
            w.WriteString("status", Status(n));
            w.WriteString("startedAt", n.StartedAt.ToString("O"));
            w.WriteString("finishedAt", n.FinishedAt.ToString("O"));
            w.WriteNumber("durationMs", n.DurationMs);
            w.WriteNumber("exitCode", n.ExitCode);
            w.WriteBoolean("interrupted", n.Interrupted);
            w.WriteStartObject("who");
            w.WriteString("user", n.User);
            Nullable(w, "sudoUser", n.SudoUser);
            Nullable(w, "author", n.Revision?.Author);
            Nullable(w, "committer", n.Revision?.Committer);
            Nullable(w, "operator", n.Operator);
            w.WriteEndObject();
            w.WriteStartObject("revision");
            Nullable(w, "old", n.PreviousRevision);
            Nullable(w, "new", n.Revision?.Commit);
            Nullable(w, "subject", n.Revision?.Subject);
            w.WriteBoolean("dirty", n.Revision?.Dirty ?? false);
            Nullable(w, "link", Link(linkTemplate, n));
            w.WriteEndObject();
            w.WriteStartObject("summary");
            w.WriteNumber("total", n.Total);
            w.WriteNumber("unchanged", n.Unchanged);
            w.WriteNumber("changed", n.Changed);
            w.WriteNumber("wouldChange", n.WouldChange);
            w.WriteNumber("failed", n.Failed);
            w.WriteNumber("skipped", n.Skipped);
            w.WriteEndObject();
            w.WriteStartArray("changes");
            foreach (var c in n.Changes)
            {
                w.WriteStartObject();
                w.WriteString("id", c.Id);
                w.WriteString("status", c.Status);
                w.WriteStartArray("properties");
                foreach (var p in c.Properties) w.WriteStringValue(p);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("failures");
            foreach (var f in n.Failures)
            {
                w.WriteStartObject();
                w.WriteString("id", f.Id);
                Nullable(w, "message", f.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("errors");
            foreach (var e in n.Errors) w.WriteStringValue(e);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The Slack/Mattermost body: <c>{"text": ...}</c> with a short headline, who, the revision (and its
    /// link), then up to 10 changed resources and 10 failures.
    /// </summary>
    public static string Slack(RunNotice n, string? linkTemplate)
    {
        var t = new StringBuilder();
        var what = n.Noop ? "preview" : "run";
        t.Append(Status(n) switch
        {
            "failed" => ":x: ",
            "changed" => ":white_check_mark: ",
            _ => "",
        });
        t.Append($"converge {what} on *{n.Host}*: ");
        if (n.Errors.Count > 0) t.Append("manifests did not load");
        else
        {
            t.Append(n.Noop ? $"{n.WouldChange} to change" : $"{n.Changed} changed");
            t.Append($", {n.Failed} failed, {n.Skipped} skipped of {n.Total}");
        }
        t.Append($" ({n.DurationMs / 1000:0.0} s, exit {n.ExitCode})\n");
        t.Append("who: ").Append(n.SudoUser is null ? n.User : $"{n.SudoUser} (sudo as {n.User})");
        if (n.Operator is not null) t.Append($", pushed by {n.Operator}");
        if (n.Revision?.Committer is { } committer) t.Append($"; committer {committer}");
        if (n.Revision?.Author is { } author && author != n.Revision.Committer) t.Append($"; author {author}");
        t.Append('\n');
        if (n.Revision?.Commit is { } commit)
        {
            t.Append("revision: ");
            if (n.PreviousRevision is { } old && old != commit) t.Append(Short(old)).Append(" → ");
            t.Append(Short(commit));
            if (n.Revision.Dirty) t.Append(" (uncommitted changes)");
            if (n.Revision.Subject is { } subject) t.Append($" \"{subject}\"");
            if (Link(linkTemplate, n) is { } link) t.Append($" <{link}|diff>");
            t.Append('\n');
        }
        foreach (var c in n.Changes.Take(10)) t.Append($"• {c.Id}: {string.Join(", ", c.Properties)}\n");
        var shown = Math.Min(10, n.Changes.Count);
        if (n.Changed + n.WouldChange > shown) t.Append($"… and {n.Changed + n.WouldChange - shown} more changed\n");
        foreach (var f in n.Failures.Take(10)) t.Append($"✗ {f.Id}: {f.Message}\n");
        if (n.Failed > 10) t.Append($"… and {n.Failed - 10} more failed\n");
        foreach (var e in n.Errors.Take(10)) t.Append($"✗ {e}\n");
        t.Append($"run {n.RunId}");
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("text", t.ToString());
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary><c>failed</c>, <c>changed</c> (or would change, in a preview) or <c>unchanged</c>.</summary>
    public static string Status(RunNotice n) => n.HasFailures ? "failed" : n.HasChanges ? "changed" : "unchanged";

    private static string Short(string commit) => commit.Length > 7 ? commit[..7] : commit;

    private static void Nullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
