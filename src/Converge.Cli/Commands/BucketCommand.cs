using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Cli.Undo;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Machine;
using Converge.Manifests.Diagnostics;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge bucket list [PATH]</c>, <c>bucket show HASH</c>, <c>bucket restore HASH PATH</c>: the
/// backups in <c>STATE/bucket</c>, found through its index. Sensitive contents are listed by hash only
/// and never printed; a restore is a run of its own (with a report and a backup of what it replaces).
/// </summary>
public sealed class BucketCommand(Settings settings)
{
    /// <summary>How long <c>restore</c> waits for the run lock.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(60);

    private string BucketDirectory => Path.Combine(settings.EffectiveStateDir, "bucket");

    public int List(string? path, bool json)
    {
        var bucket = new FileBucket(BucketDirectory);
        var entries = BucketIndex.ReadAll(BucketDirectory);
        if (path is not null)
        {
            var wanted = Normalize(path);
            var versions = entries.Where(e => e.Path == wanted).OrderByDescending(e => e.Time).ThenByDescending(e => e.RunId, StringComparer.Ordinal).ToList();
            if (json)
            {
                var array = new JsonArray();
                foreach (var e in versions)
                    array.Add(new JsonObject
                    {
                        ["sha256"] = e.Sha256,
                        ["size"] = e.Sensitive ? null : e.Size,
                        ["time"] = e.Time.ToString("O", CultureInfo.InvariantCulture),
                        ["runId"] = e.RunId,
                        ["sensitive"] = e.Sensitive,
                        ["pruned"] = !File.Exists(bucket.PathOf(e.Sha256)),
                    });
                Print(array);
                return ExitCodes.Ok;
            }
            if (versions.Count == 0)
            {
                Console.Out.WriteLine($"No backups of {wanted} in {BucketDirectory}.");
                return ExitCodes.Ok;
            }
            var rows = new List<string[]> { new[] { "SHA256", "SIZE", "STORED (UTC)", "RUN" } };
            foreach (var e in versions)
            {
                var note = !File.Exists(bucket.PathOf(e.Sha256)) ? " (pruned)" : e.Sensitive ? " (sensitive)" : "";
                rows.Add([e.Sha256 + note, e.Sensitive ? "-" : e.Size.ToString(CultureInfo.InvariantCulture), Time(e.Time), e.RunId]);
            }
            Table(rows);
            return ExitCodes.Ok;
        }

        var byPath = entries.GroupBy(e => e.Path, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (json)
        {
            var array = new JsonArray();
            foreach (var g in byPath)
                array.Add(new JsonObject
                {
                    ["path"] = g.Key,
                    ["versions"] = g.Select(e => e.Sha256).Distinct().Count(),
                    ["lastStored"] = g.Max(e => e.Time).ToString("O", CultureInfo.InvariantCulture),
                    ["sensitive"] = g.Any(e => e.Sensitive),
                });
            Print(array);
            return ExitCodes.Ok;
        }
        if (byPath.Count == 0)
        {
            Console.Out.WriteLine($"No backups in {BucketDirectory}.");
            return ExitCodes.Ok;
        }
        var table = new List<string[]> { new[] { "PATH", "VERSIONS", "LAST STORED (UTC)" } };
        foreach (var g in byPath)
            table.Add([g.Key, g.Select(e => e.Sha256).Distinct().Count().ToString(CultureInfo.InvariantCulture), Time(g.Max(e => e.Time))]);
        Table(table);
        return ExitCodes.Ok;
    }

    public int Show(string sha)
    {
        if (!FileBucket.IsSha256(sha))
        {
            Console.Error.WriteLine($"converge: bucket show: '{sha}' is not a sha256 (64 lowercase hex digits, as 'converge bucket list PATH' prints them)");
            return ExitCodes.Usage;
        }
        var entries = BucketIndex.ReadAll(BucketDirectory).Where(e => e.Sha256 == sha).ToList();
        if (entries.Count == 0)
        {
            Console.Error.WriteLine($"converge: bucket show: {sha} is not in the bucket's index, so whether it is sensitive is unknown and it is not printed; " +
                                    "'converge bucket restore HASH PATH' writes it to a file");
            return ExitCodes.Failures;
        }
        if (entries.Any(e => e.Sensitive))
        {
            Console.Error.WriteLine($"converge: bucket show: {sha} is sensitive content (from {entries[0].Path}); it is never printed. " +
                                    "'converge bucket restore HASH PATH' writes it to a file");
            return ExitCodes.Failures;
        }
        // A content that held a secret's text without deriving from one is not marked sensitive, but the
        // run that stored it showed its diff redacted: ask the reports of the runs that stored it.
        var history = new Reporting.History.ReportHistory(settings.EffectiveStateDir);
        foreach (var runId in entries.Select(e => e.RunId).Distinct())
        {
            if (!File.Exists(history.PathOf(runId)) || Reporting.History.StoredReport.Read(history.PathOf(runId)) is not { } report) continue;
            if (report.Outcomes.Any(o => o.Changes.Any(c => c.Backup == sha) && UndoPlanner.ShowedRedacted(o)))
            {
                Console.Error.WriteLine($"converge: bucket show: {sha} (from {entries[0].Path}) was shown redacted by run {runId}: it holds secret text and is never printed. " +
                                        "'converge bucket restore HASH PATH' writes it to a file");
                return ExitCodes.Failures;
            }
        }
        var content = new FileBucket(BucketDirectory).Load(sha);
        if (content is null)
        {
            Console.Error.WriteLine($"converge: bucket show: {sha} was pruned from the bucket (see docs/undo.md, retention)");
            return ExitCodes.Failures;
        }
        Console.Out.Flush();
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(content);
        return ExitCodes.Ok;
    }

    public async Task<int> RestoreAsync(string sha, string path, bool noop, bool json, CancellationToken ct)
    {
        if (!FileBucket.IsSha256(sha))
        {
            Console.Error.WriteLine($"converge: bucket restore: '{sha}' is not a sha256 (64 lowercase hex digits, as 'converge bucket list PATH' prints them)");
            return ExitCodes.Usage;
        }
        if (!Path.IsPathRooted(path))
        {
            Console.Error.WriteLine($"converge: bucket restore: PATH must be absolute; got '{path}'");
            return ExitCodes.Usage;
        }
        var target = Normalize(path);
        var bucket = new FileBucket(BucketDirectory);
        if (!File.Exists(bucket.PathOf(sha)))
        {
            Console.Error.WriteLine($"converge: bucket restore: {sha} is not in {BucketDirectory} (never stored, or pruned); nothing was changed");
            return ExitCodes.Failures;
        }
        var entries = BucketIndex.ReadAll(BucketDirectory).Where(e => e.Sha256 == sha).ToList();
        // Content of unknown origin is treated as secret: its diff is not shown and a new file gets 0600.
        var sensitive = entries.Count == 0 || entries.Any(e => e.Sensitive);
        var span = new SourceSpan("bucket restore", 1, 1, 1, 1);
        var props = new Dictionary<string, Value>(StringComparer.Ordinal)
        {
            ["ensure"] = new ScalarValue(span, "file", true),
            ["source"] = new ScalarValue(span, bucket.PathOf(sha), true),
        };
        // An existing file keeps its mode and owner (only the content goes back); a new one is private
        // when the content is sensitive, else 0644, owned by whoever runs the restore.
        if (new LocalSystem().Stat(target) is null)
            props["mode"] = new ScalarValue(span, sensitive ? "0600" : "0644", true);
        var resource = new CatalogResource
        {
            Id = new ResourceId("file", target),
            Span = span,
            TitleSpan = span,
            Properties = props,
            Sensitive = sensitive,
            BaseDirectory = "/",
        };
        var extra = new JsonObject { ["restore"] = new JsonObject { ["sha256"] = sha, ["path"] = target } };
        return await new ResourceRun(settings) { Json = json, LockTimeout = LockTimeout }
            .RunAsync($"restore of {sha} to {target}", Environment.MachineName, [resource], noop, extra, ct);
    }

    private static string Normalize(string path)
    {
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static void Print(JsonArray array) =>
        Console.Out.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

    private static void Table(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length)).ToArray();
        foreach (var row in rows)
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }
}
