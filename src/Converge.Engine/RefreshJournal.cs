using System.Text.Json;
using System.Text.Json.Nodes;

namespace Converge.Engine;

/// <summary>
/// Pending refreshes, on disk, so none is ever lost: an entry is written before the change that
/// triggers it is applied, and removed only once the refresh was delivered. A run that fails or is
/// killed in between leaves the entry, and the next run delivers it. Null path: in-memory only.
/// </summary>
public sealed class RefreshJournal
{
    private readonly string? _path;
    private readonly Lock _gate = new();
    private readonly List<Entry> _entries;

    public sealed record Entry(string Target, string Source, string RunId, DateTimeOffset Since);

    private RefreshJournal(string? path, List<Entry> entries)
    {
        _path = path;
        _entries = entries;
    }

    public static RefreshJournal InMemory() => new(null, []);

    /// <summary>Loads the journal (a missing file is an empty journal; a corrupt one is set aside, not fatal).</summary>
    public static RefreshJournal Open(string path)
    {
        var entries = new List<Entry>();
        if (File.Exists(path))
        {
            try
            {
                var root = JsonNode.Parse(File.ReadAllText(path))!;
                foreach (var e in root["pending"]!.AsArray())
                    entries.Add(new Entry((string)e!["target"]!, (string)e["source"]!, (string)e["runId"]!,
                        DateTimeOffset.Parse((string)e["since"]!, System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (Exception ex) when (ex is JsonException or NullReferenceException or InvalidOperationException or FormatException)
            {
                File.Move(path, path + ".corrupt", overwrite: true);
            }
        }
        return new RefreshJournal(path, entries);
    }

    /// <summary>Targets with pending refreshes and who asked for them.</summary>
    public IReadOnlyList<Entry> Pending
    {
        get { lock (_gate) return _entries.ToList(); }
    }

    /// <summary>Records that <paramref name="source"/> is about to change and will refresh each target.</summary>
    public void Add(string source, IEnumerable<string> targets, string runId)
    {
        lock (_gate)
        {
            var added = false;
            foreach (var t in targets)
            {
                if (_entries.Exists(e => e.Target == t && e.Source == source)) continue;
                _entries.Add(new Entry(t, source, runId, DateTimeOffset.UtcNow));
                added = true;
            }
            if (added) Save();
        }
    }

    /// <summary>The refresh of <paramref name="target"/> was delivered (or made moot): forget its entries.</summary>
    public void Delivered(string target)
    {
        lock (_gate)
        {
            if (_entries.RemoveAll(e => e.Target == target) > 0) Save();
        }
    }

    private void Save()
    {
        if (_path is null) return;
        var root = new JsonObject
        {
            ["formatVersion"] = 1,
            ["pending"] = new JsonArray(_entries.Select(e => (JsonNode)new JsonObject
            {
                ["target"] = e.Target,
                ["source"] = e.Source,
                ["runId"] = e.RunId,
                ["since"] = e.Since.ToString("O"),
            }).ToArray()),
        };
        StateFiles.WriteAtomic(_path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}

/// <summary>Writes Converge's own state files atomically (temp + fsync + rename), like managed files.</summary>
public static class StateFiles
{
    public static void WriteAtomic(string path, string text)
        => WriteAtomic(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>Lets <paramref name="write"/> fill a temp file, then fsyncs it and renames it over <paramref name="path"/>.</summary>
    public static void WriteAtomic(string path, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 65536, FileOptions.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
