using System.Text;
using System.Text.Json;

namespace Converge.Machine;

/// <summary>One store into the bucket: which file's content, its hash and size, when, by which run, and whether it is sensitive.</summary>
public sealed record BucketEntry(string Path, string Sha256, long Size, DateTimeOffset Time, string RunId, bool Sensitive);

/// <summary>
/// The bucket's index: one JSON-lines file per run, <c>BUCKET/index/RUNID.jsonl</c>, one line per store.
/// A file per run because a run is the unit undo and retention work in (pruning a run's entries rewrites
/// or deletes only that run's file, never a file another process is appending to), and because only one
/// run holds the run lock at a time, a file has one writing process. Inside a run, file applies overlap,
/// so appends are serialized by a lock and each line goes out in one <c>write</c> to an O_APPEND file.
/// A line cut short by a crash is skipped when reading.
/// </summary>
public static class BucketIndex
{
    private static readonly Lock Gate = new();
    private static readonly JsonWriterOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The index directory of the bucket rooted at <paramref name="bucketDirectory"/>.</summary>
    public static string DirectoryOf(string bucketDirectory) => System.IO.Path.Join(bucketDirectory, "index");

    /// <summary>Appends <paramref name="entry"/> to its run's index file (0600; the directory is made 0700 by <paramref name="ensureDirectory"/>).</summary>
    public static void Append(string bucketDirectory, BucketEntry entry, Action<string, bool> ensureDirectory)
    {
        var dir = DirectoryOf(bucketDirectory);
        ensureDirectory(dir, false);
        var line = Line(entry);
        lock (Gate)
        {
            using var stream = new FileStream(System.IO.Path.Join(dir, entry.RunId + ".jsonl"), new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            stream.Write(line);
        }
    }

    /// <summary>Every entry of every run, oldest run first (run ids sort by time), in store order within a run.</summary>
    public static IReadOnlyList<BucketEntry> ReadAll(string bucketDirectory)
    {
        var dir = DirectoryOf(bucketDirectory);
        if (!System.IO.Directory.Exists(dir)) return [];
        var files = System.IO.Directory.GetFiles(dir, "*.jsonl");
        Array.Sort(files, StringComparer.Ordinal);
        var entries = new List<BucketEntry>();
        foreach (var f in files) entries.AddRange(ReadFile(f));
        return entries;
    }

    /// <summary>The entries of one index file; lines that do not parse (a crash mid-line) are skipped.</summary>
    public static IEnumerable<BucketEntry> ReadFile(string file)
    {
        foreach (var line in File.ReadLines(file))
        {
            BucketEntry? entry = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                entry = new BucketEntry(r.GetProperty("path").GetString()!, r.GetProperty("sha256").GetString()!,
                    r.GetProperty("size").GetInt64(), DateTimeOffset.Parse(r.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                    r.GetProperty("runId").GetString()!, r.GetProperty("sensitive").GetBoolean());
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // A torn last line of a run that died mid-write: that store's content is there, its record is not.
            }
            if (entry is not null) yield return entry;
        }
    }

    /// <summary>Replaces a run's index file with <paramref name="entries"/> (atomically), or deletes it when there are none.</summary>
    public static void Rewrite(string file, IReadOnlyList<BucketEntry> entries)
    {
        if (entries.Count == 0)
        {
            File.Delete(file);
            return;
        }
        var buffer = new MemoryStream();
        foreach (var e in entries) buffer.Write(Line(e));
        new LocalSystem().WriteFileAtomic(file, buffer.ToArray(), new FileAttributes(new UnixMode(0x180)));
    }

    private static byte[] Line(BucketEntry e)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Compact))
        {
            w.WriteStartObject();
            w.WriteString("path", e.Path);
            w.WriteString("sha256", e.Sha256);
            w.WriteNumber("size", e.Size);
            w.WriteString("time", e.Time.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("runId", e.RunId);
            w.WriteBoolean("sensitive", e.Sensitive);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
