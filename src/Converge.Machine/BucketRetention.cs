namespace Converge.Machine;

/// <summary>
/// Bounds the bucket: per file path the newest <see cref="KeepPerPath"/> stores, none older than
/// <see cref="MaxAge"/>, and at most <see cref="MaxBytes"/> of content in all (newest kept first). Stores
/// made by a protected run (the runs whose reports are the newest, which <c>undo</c> may be asked to
/// revert) are never pruned by any limit. A content is deleted once no kept index entry names it;
/// contents stored before the index existed (no entry at all) are left alone.
/// </summary>
public sealed record BucketRetention
{
    public int KeepPerPath { get; init; } = 10;

    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(90);

    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>What a prune removed.</summary>
    public sealed record Result(int EntriesRemoved, int ContentsRemoved, long BytesFreed);

    /// <summary>
    /// Prunes the bucket at <paramref name="bucketDirectory"/>. Call it with the run lock held: it rewrites
    /// the index files of older runs. Never touches the entries of <paramref name="protectedRuns"/>.
    /// </summary>
    public Result Prune(string bucketDirectory, DateTimeOffset now, IReadOnlySet<string> protectedRuns)
    {
        var indexDir = BucketIndex.DirectoryOf(bucketDirectory);
        if (!System.IO.Directory.Exists(indexDir)) return new Result(0, 0, 0);
        var byFile = new List<(string File, List<BucketEntry> Entries)>();
        foreach (var f in System.IO.Directory.GetFiles(indexDir, "*.jsonl"))
            byFile.Add((f, BucketIndex.ReadFile(f).ToList()));

        var all = byFile.SelectMany(f => f.Entries).ToList();
        // Newest first: a file's recent versions are what a rollback wants.
        var newestFirst = all.OrderByDescending(e => e.Time).ThenByDescending(e => e.RunId, StringComparer.Ordinal).ToList();
        var kept = new HashSet<BucketEntry>(ReferenceEqualityComparer.Instance);
        var countedShas = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var e in newestFirst.Where(e => protectedRuns.Contains(e.RunId)))
        {
            kept.Add(e);
            if (countedShas.Add(e.Sha256)) total += e.Size;
        }
        var rankInPath = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in newestFirst)
        {
            // Protected stores count towards a path's versions, so they push older ones out.
            var rank = rankInPath.GetValueOrDefault(e.Path);
            rankInPath[e.Path] = rank + 1;
            if (kept.Contains(e)) continue;
            if (rank >= KeepPerPath || now - e.Time > MaxAge) continue;
            if (!countedShas.Contains(e.Sha256))
            {
                if (total + e.Size > MaxBytes) continue;
                countedShas.Add(e.Sha256);
                total += e.Size;
            }
            kept.Add(e);
        }

        var removedEntries = 0;
        foreach (var (file, entries) in byFile)
        {
            var keep = entries.Where(kept.Contains).ToList();
            if (keep.Count == entries.Count) continue;
            removedEntries += entries.Count - keep.Count;
            BucketIndex.Rewrite(file, keep);
        }

        var stillNamed = kept.Select(e => e.Sha256).ToHashSet(StringComparer.Ordinal);
        int contents = 0;
        long freed = 0;
        var bucket = new FileBucket(bucketDirectory);
        foreach (var sha in all.Select(e => e.Sha256).Distinct(StringComparer.Ordinal).Where(s => !stillNamed.Contains(s)))
        {
            var blob = bucket.PathOf(sha);
            var info = new FileInfo(blob);
            if (!info.Exists) continue;
            freed += info.Length;
            info.Delete();
            contents++;
        }
        return new Result(removedEntries, contents, freed);
    }
}
