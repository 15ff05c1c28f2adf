using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Engine;
using Converge.Providers.Contract;

namespace Converge.Reporting.Plans;

/// <summary>
/// One resource of a saved plan: what --noop showed for it (status, changes redacted as in reports,
/// refresh) and the keyed digests of what that was computed from. Digests are null where nothing was
/// read (unknown, skipped, or a failed read).
/// </summary>
public sealed record PlanEntry(string Id, string Status, string Source)
{
    public string? Message { get; init; }
    public IReadOnlyList<Change> Changes { get; init; } = [];
    public IReadOnlyList<string> RefreshedBy { get; init; } = [];
    public bool Refreshed { get; init; }
    public IReadOnlyList<Change> RefreshChanges { get; init; } = [];
    public required string DesiredDigest { get; init; }
    public string? ActualDigest { get; init; }
    public IReadOnlyDictionary<string, string>? ActualFields { get; init; }
    public string? ChangesDigest { get; init; }
}

/// <summary>
/// A reviewed plan (<c>converge --noop --out plan.json</c>): the host, node and manifest revision it is
/// for, a keyed digest of the compiled catalog, and every selected resource's entry in graph order.
/// Human-readable JSON (a reviewer reads it), <c>formatVersion</c> 1; secrets never appear in it in clear.
/// </summary>
public sealed record PlanDocument
{
    public const int CurrentFormatVersion = 1;
    public const string KindName = "converge-plan";

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string PlanId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string Host { get; init; }
    public required string Node { get; init; }
    public required string User { get; init; }
    public string? SudoUser { get; init; }
    public required string ManifestPath { get; init; }
    public Revision? Revision { get; init; }
    public required string CatalogDigest { get; init; }
    /// <summary>Names the host key the digests were made with (<see cref="Engine.Plans.PlanKey.Id"/>).</summary>
    public required string KeyId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public required RunSummary Summary { get; init; }
    public int ExitCode { get; init; }
    public required IReadOnlyList<PlanEntry> Resources { get; init; }

    private static readonly JavaScriptEncoder Relaxed = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The plan as indented UTF-8 JSON ending in a newline.</summary>
    public byte[] ToJsonBytes()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = Relaxed }))
        {
            w.WriteStartObject();
            w.WriteString("kind", KindName);
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("planId", PlanId);
            w.WriteString("createdAt", CreatedAt.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("host", Host);
            w.WriteString("node", Node);
            w.WriteString("user", User);
            RunReport.WriteNullable(w, "sudoUser", SudoUser);
            w.WriteStartObject("manifest");
            w.WriteString("path", ManifestPath);
            if (Revision is { } rev)
            {
                w.WriteStartObject("revision");
                RunReport.WriteNullable(w, "commit", rev.Commit);
                RunReport.WriteNullable(w, "author", rev.Author);
                RunReport.WriteNullable(w, "subject", rev.Subject);
                RunReport.WriteNullable(w, "date", rev.Date?.ToString("O", CultureInfo.InvariantCulture));
                w.WriteBoolean("dirty", rev.Dirty);
                w.WriteEndObject();
            }
            else w.WriteNull("revision");
            w.WriteString("catalogDigest", CatalogDigest);
            w.WriteEndObject();
            w.WriteString("digestKey", KeyId);
            w.WriteStartArray("tags");
            foreach (var t in Tags) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteStartObject("summary");
            w.WriteNumber("total", Summary.Total);
            w.WriteNumber("unchanged", Summary.Unchanged);
            w.WriteNumber("wouldChange", Summary.WouldChange);
            w.WriteNumber("unknown", Summary.Unknown);
            w.WriteNumber("failed", Summary.Failed);
            w.WriteNumber("skipped", Summary.Skipped);
            w.WriteEndObject();
            w.WriteNumber("exitCode", ExitCode);
            w.WriteStartArray("resources");
            foreach (var e in Resources) WriteEntry(w, e);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>The sha256 of the plan file's bytes (<c>sha256:HEX</c>): what an apply's report records.</summary>
    public static string FileDigest(byte[] bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private static void WriteEntry(Utf8JsonWriter w, PlanEntry e)
    {
        w.WriteStartObject();
        w.WriteString("id", e.Id);
        w.WriteString("status", e.Status);
        w.WriteString("source", e.Source);
        if (e.Message is not null) w.WriteString("message", e.Message);
        if (e.Changes.Count > 0) RunReport.WriteChanges(w, "changes", e.Changes, withBackup: false);
        if (e.RefreshedBy.Count > 0)
        {
            w.WriteStartArray("refreshedBy");
            foreach (var r in e.RefreshedBy) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteBoolean("refreshed", e.Refreshed);
        }
        if (e.RefreshChanges.Count > 0) RunReport.WriteChanges(w, "refreshChanges", e.RefreshChanges, withBackup: false);
        w.WriteStartObject("digests");
        w.WriteString("desired", e.DesiredDigest);
        RunReport.WriteNullable(w, "actual", e.ActualDigest);
        RunReport.WriteNullable(w, "changes", e.ChangesDigest);
        if (e.ActualFields is { } fields)
        {
            w.WriteStartObject("actualFields");
            foreach (var (k, v) in fields) w.WriteString(k, v);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads a plan file. Anything that is not a plan this version of Converge wrote (not JSON, another
    /// kind, another format version, a missing member) throws <see cref="PlanFileException"/> naming the file.
    /// </summary>
    public static PlanDocument Read(string path, byte[] bytes)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new PlanFileException(path, $"not valid JSON ({e.Message})");
        }
        if (root is not JsonObject o) throw new PlanFileException(path, "not a plan: expected a JSON object");
        if ((string?)Str(o, "kind", path, optional: true) != KindName)
            throw new PlanFileException(path, $"not a plan: \"kind\" must be \"{KindName}\" (write one with 'converge --noop --out FILE')");
        var version = o["formatVersion"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : -1;
        if (version != CurrentFormatVersion)
            throw new PlanFileException(path, $"unsupported plan formatVersion {(version < 0 ? "(missing)" : version)}; this converge reads version {CurrentFormatVersion}: make the plan again with this version");
        try
        {
            var manifest = o["manifest"] as JsonObject ?? throw new PlanFileException(path, "damaged plan: missing \"manifest\"");
            var summary = o["summary"] as JsonObject ?? throw new PlanFileException(path, "damaged plan: missing \"summary\"");
            var resources = o["resources"] as JsonArray ?? throw new PlanFileException(path, "damaged plan: missing \"resources\"");
            var entries = resources.Select((e, i) => ReadEntry(e as JsonObject ?? throw new PlanFileException(path, $"resources[{i}] is not an object"), path)).ToList();
            if (entries.GroupBy(e => e.Id).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new PlanFileException(path, $"damaged plan: {twice.Key} is listed twice");
            return new PlanDocument
            {
                FormatVersion = version,
                PlanId = Str(o, "planId", path)!,
                CreatedAt = DateTimeOffset.Parse(Str(o, "createdAt", path)!, CultureInfo.InvariantCulture),
                Host = Str(o, "host", path)!,
                Node = Str(o, "node", path)!,
                User = Str(o, "user", path)!,
                SudoUser = Str(o, "sudoUser", path, optional: true),
                ManifestPath = Str(manifest, "path", path)!,
                Revision = manifest["revision"] is JsonObject r
                    ? new Revision(Str(r, "commit", path, true), Str(r, "author", path, true), Str(r, "subject", path, true),
                        Str(r, "date", path, true) is { } d ? DateTimeOffset.Parse(d, CultureInfo.InvariantCulture) : null,
                        r["dirty"]?.GetValue<bool>() ?? false)
                    : null,
                CatalogDigest = Str(manifest, "catalogDigest", path)!,
                KeyId = Str(o, "digestKey", path)!,
                Tags = (o["tags"] as JsonArray)?.Select(t => (string)t!).ToList() ?? [],
                Summary = new RunSummary(Int(summary, "total"), Int(summary, "unchanged"), 0, Int(summary, "wouldChange"),
                    Int(summary, "unknown"), Int(summary, "failed"), Int(summary, "skipped")),
                ExitCode = Int(o, "exitCode"),
                Resources = entries,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or NullReferenceException)
        {
            throw new PlanFileException(path, $"damaged plan: {e.Message}");
        }
    }

    private static PlanEntry ReadEntry(JsonObject e, string path)
    {
        var digests = e["digests"] as JsonObject ?? throw new PlanFileException(path, $"resource {Str(e, "id", path)}: missing \"digests\"");
        return new PlanEntry(Str(e, "id", path)!, Str(e, "status", path)!, Str(e, "source", path)!)
        {
            Message = Str(e, "message", path, optional: true),
            Changes = ReadChanges(e["changes"] as JsonArray),
            RefreshedBy = (e["refreshedBy"] as JsonArray)?.Select(t => (string)t!).ToList() ?? [],
            Refreshed = e["refreshed"]?.GetValue<bool>() ?? false,
            RefreshChanges = ReadChanges(e["refreshChanges"] as JsonArray),
            DesiredDigest = Str(digests, "desired", path)!,
            ActualDigest = Str(digests, "actual", path, optional: true),
            ChangesDigest = Str(digests, "changes", path, optional: true),
            ActualFields = digests["actualFields"] is JsonObject f
                ? f.ToDictionary(p => p.Key, p => (string)p.Value!, StringComparer.Ordinal)
                : null,
        };
    }

    private static IReadOnlyList<Change> ReadChanges(JsonArray? array) => array is null ? [] : array.Select(c => new Change(
        (string)c!["property"]!, (string?)c["from"], (string?)c["to"],
        (c["argv"] as JsonArray)?.Select(a => (string)a!).ToList(), (string?)c["diff"])).ToList();

    private static string? Str(JsonObject o, string name, string path, bool optional = false)
    {
        var node = o[name];
        if (node is null)
            return optional ? null : throw new PlanFileException(path, $"damaged plan: missing \"{name}\"");
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : throw new PlanFileException(path, $"damaged plan: \"{name}\" must be a string");
    }

    private static int Int(JsonObject o, string name) => o[name]?.GetValue<int>() ?? 0;
}

/// <summary>A plan file that cannot be used; the message names the file.</summary>
public sealed class PlanFileException(string path, string reason) : Exception($"{path}: {reason}")
{
    public string PlanPath { get; } = path;
}

/// <summary>The reviewed plan a run applied (<c>apply --plan</c>): recorded in its report as <c>plan</c>.</summary>
public sealed record PlanReference(string Id, string Digest, string Path);
