using System.Text;

namespace Converge.Machine.Tests;

/// <summary>The bucket's index (one JSON-lines file per run) and its retention, on a real bucket in a temp directory.</summary>
public sealed class BucketRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private string Root => _temp.Path;

    /// <summary>Stores <paramref name="text"/> as the content of <paramref name="path"/>, as run <paramref name="run"/> at <paramref name="at"/>.</summary>
    private string Store(string run, DateTimeOffset at, string path, string text, bool sensitive = false) =>
        new FileBucket(Root) { RunId = run, Clock = new FixedClock(at) }.Store(Encoding.UTF8.GetBytes(text), path, sensitive);

    private bool Has(string sha) => File.Exists(new FileBucket(Root).PathOf(sha));

    [Fact]
    public void Store_WithPathAndRun_AppendsOneIndexLinePerStore_EvenForContentAlreadyStored()
    {
        var sha = Store("run-a", Now, "/etc/a", "same\n");
        Store("run-b", Now.AddMinutes(1), "/etc/b", "same\n", sensitive: true);
        new FileBucket(Root).Store("no path"u8); // a bare store is not indexed

        var entries = BucketIndex.ReadAll(Root);

        entries.Count.ShouldBe(2);
        entries[0].ShouldBe(new BucketEntry("/etc/a", sha, 5, Now, "run-a", false));
        entries[1].ShouldBe(new BucketEntry("/etc/b", sha, 5, Now.AddMinutes(1), "run-b", true));
        Run.Output("stat", "-c", "%a", Path.Join(Root, "index")).ShouldBe("700");
        Run.Output("stat", "-c", "%a", Path.Join(Root, "index", "run-a.jsonl")).ShouldBe("600");
    }

    [Fact]
    public void ReadAll_TornLastLine_IsSkipped()
    {
        Store("run-a", Now, "/etc/a", "one\n");
        File.AppendAllText(Path.Join(Root, "index", "run-a.jsonl"), "{\"path\":\"/etc/a\",\"sha2");
        BucketIndex.ReadAll(Root).Count.ShouldBe(1);
    }

    [Fact]
    public void Prune_KeepsTheNewestVersionsPerPath()
    {
        var shas = Enumerable.Range(0, 5).Select(i => Store($"run-{i}", Now.AddHours(-5 + i), "/etc/a", $"v{i}\n")).ToList();

        var result = new BucketRetention { KeepPerPath = 2 }.Prune(Root, Now, new HashSet<string>());

        result.EntriesRemoved.ShouldBe(3);
        result.ContentsRemoved.ShouldBe(3);
        shas.Select(Has).ShouldBe([false, false, false, true, true]);
        BucketIndex.ReadAll(Root).Select(e => e.RunId).ShouldBe(["run-3", "run-4"]);
        File.Exists(Path.Join(Root, "index", "run-0.jsonl")).ShouldBeFalse(); // an emptied run's index goes
    }

    [Fact]
    public void Prune_ProtectedStoresCountTowardsThePathsVersions()
    {
        var old = Store("run-0", Now.AddHours(-3), "/etc/a", "v0\n");
        var mid = Store("run-1", Now.AddHours(-2), "/etc/a", "v1\n");
        var newest = Store("run-2", Now.AddHours(-1), "/etc/a", "v2\n");

        new BucketRetention { KeepPerPath = 2 }.Prune(Root, Now, new HashSet<string> { "run-2", "run-1" });

        Has(old).ShouldBeFalse();
        Has(mid).ShouldBeTrue();
        Has(newest).ShouldBeTrue();
    }

    [Fact]
    public void Prune_DropsEntriesOlderThanMaxAge_ButNeverThoseOfProtectedRuns()
    {
        var old = Store("run-old", Now.AddDays(-100), "/etc/a", "old\n");
        var protectedOld = Store("run-kept", Now.AddDays(-200), "/etc/b", "kept\n");
        var fresh = Store("run-new", Now.AddDays(-1), "/etc/a", "new\n");

        new BucketRetention { MaxAge = TimeSpan.FromDays(90) }.Prune(Root, Now, new HashSet<string> { "run-kept" });

        Has(old).ShouldBeFalse();
        Has(protectedOld).ShouldBeTrue();
        Has(fresh).ShouldBeTrue();
    }

    [Fact]
    public void Prune_TotalSize_KeepsNewestContentsWithinTheLimit()
    {
        var a = Store("run-1", Now.AddHours(-3), "/etc/a", new string('a', 100));
        var b = Store("run-2", Now.AddHours(-2), "/etc/b", new string('b', 100));
        var c = Store("run-3", Now.AddHours(-1), "/etc/c", new string('c', 100));

        new BucketRetention { MaxBytes = 250 }.Prune(Root, Now, new HashSet<string>());

        Has(a).ShouldBeFalse();
        Has(b).ShouldBeTrue();
        Has(c).ShouldBeTrue();
    }

    [Fact]
    public void Prune_ContentStillNamedByAKeptEntry_IsNotDeleted()
    {
        // The same bytes were backed up from two files; one entry ages out, the other keeps the content.
        var sha = Store("run-1", Now.AddDays(-100), "/etc/a", "shared\n");
        Store("run-2", Now.AddDays(-1), "/etc/b", "shared\n");

        var result = new BucketRetention().Prune(Root, Now, new HashSet<string>());

        result.EntriesRemoved.ShouldBe(1);
        result.ContentsRemoved.ShouldBe(0);
        Has(sha).ShouldBeTrue();
    }

    [Fact]
    public void Prune_ContentStoredBeforeTheIndex_IsLeftAlone()
    {
        var legacy = new FileBucket(Root).Store("from an older converge\n"u8);
        Store("run-1", Now.AddDays(-100), "/etc/a", "old\n");

        new BucketRetention().Prune(Root, Now, new HashSet<string>());

        Has(legacy).ShouldBeTrue();
    }
}
