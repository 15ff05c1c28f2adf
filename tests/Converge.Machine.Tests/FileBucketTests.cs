using System.Text;

namespace Converge.Machine.Tests;

public sealed class FileBucketTests : IDisposable
{
    // sha256("hello\n")
    private const string HelloSha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Store_NewContent_WritesPrivateFileUnderShaPrefix()
    {
        var root = _temp.Combine("state/bucket");
        var bucket = new FileBucket(root);

        var sha = bucket.Store("hello\n"u8);

        sha.ShouldBe(HelloSha);
        var path = Path.Join(root, "58", HelloSha);
        File.ReadAllText(path).ShouldBe("hello\n");
        Run.Output("stat", "-c", "%a", path).ShouldBe("600");
        Run.Output("stat", "-c", "%a", Path.Join(root, "58")).ShouldBe("700");
        Run.Output("stat", "-c", "%a", root).ShouldBe("700");
    }

    [Fact]
    public void Store_SameContentTwice_IsIdempotent()
    {
        var bucket = new FileBucket(_temp.Path);

        var first = bucket.Store("same"u8);
        var inode = Run.Output("stat", "-c", "%i", Path.Join(_temp.Path, first[..2], first));
        var second = bucket.Store("same"u8);

        second.ShouldBe(first);
        Run.Output("stat", "-c", "%i", Path.Join(_temp.Path, first[..2], first)).ShouldBe(inode);
        Directory.GetFiles(Path.Join(_temp.Path, first[..2])).Length.ShouldBe(1);
    }

    [Fact]
    public void Store_ConcurrentSameContent_AllSucceed()
    {
        var bucket = new FileBucket(_temp.Combine("b"));
        var content = Encoding.UTF8.GetBytes(new string('z', 10_000));

        var shas = Enumerable.Range(0, 16).AsParallel().Select(_ => bucket.Store(content)).Distinct().ToList();

        shas.Count.ShouldBe(1);
        bucket.Load(shas[0]).ShouldBe(content);
    }

    [Fact]
    public void Load_StoredContent_RoundTrips()
    {
        var bucket = new FileBucket(_temp.Path);
        var bytes = new byte[] { 0, 1, 2, 255 };

        bucket.Load(bucket.Store(bytes)).ShouldBe(bytes);
    }

    [Fact]
    public void Load_UnknownOrInvalidHash_ReturnsNull()
    {
        var bucket = new FileBucket(_temp.Path);

        bucket.Load(HelloSha).ShouldBeNull();
        bucket.Load("../../etc/passwd").ShouldBeNull();
        bucket.Load(HelloSha.ToUpperInvariant()).ShouldBeNull();
    }
}
