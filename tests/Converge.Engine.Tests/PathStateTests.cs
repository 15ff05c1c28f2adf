using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers;
using Converge.Providers.Contract;

namespace Converge.Engine.Tests;

/// <summary>
/// The engine records what stood at a path just before and just after a path resource's changes
/// (<see cref="IPathResource"/>), through the real file and link providers on a temp directory.
/// </summary>
public sealed class PathStateTests : IDisposable
{
    private readonly string _dir = new DirectoryInfo(Directory.CreateTempSubdirectory("converge-engine-").FullName).FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CatalogResource Resource(string type, string path, params (string Key, string Value, bool Secret)[] props)
    {
        var span = new SourceSpan("site.yaml", 1, 3, 1, 9);
        return new CatalogResource
        {
            Id = new ResourceId(type, path),
            Span = span,
            Properties = props.ToDictionary(p => p.Key, p => (Value)new ScalarValue(span, p.Value, true, p.Secret)),
            BaseDirectory = "/",
        };
    }

    private async Task<RunResult> RunAsync(bool noop, params CatalogResource[] resources)
    {
        var bag = new DiagnosticBag();
        var run = RunPreparer.Prepare(new ResourceCatalog("node", resources, [], []), BuiltInProviders.Registry(), bag);
        bag.Sorted().ShouldBeEmpty();
        var context = new ProviderContext(new LocalSystem(), new FileBucket(Path.Combine(_dir, ".bucket")) { RunId = "r1" }, run!.ManagedPaths);
        return await new RunEngine(context, RefreshJournal.InMemory(), Redactor.None)
            .RunAsync(run, new RunOptions { Noop = noop, RunId = "r1" }, new EngineHarness.Collecting(), CancellationToken.None);
    }

    [Fact]
    public async Task Apply_FileChanged_RecordsBeforeAndAfter()
    {
        var path = Path.Combine(_dir, "a.conf");
        File.WriteAllText(path, "old\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var result = await RunAsync(false, Resource("file", path, ("content", "new\n", false), ("mode", "0600", false)));

        var o = result.Outcomes.Single();
        o.Before.ShouldNotBeNull();
        o.Before.Kind.ShouldBe("file");
        o.Before.Sha256.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("old\n"u8)));
        o.Before.Size.ShouldBe(4);
        o.Before.Mode.ShouldBe("0640");
        o.After!.Sha256.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("new\n"u8)));
        o.After.Mode.ShouldBe("0600");
        o.After.Uid.ShouldBe(o.Before.Uid);
        // The replaced content is in the bucket and indexed under its path, for this run.
        BucketIndex.ReadAll(Path.Combine(_dir, ".bucket")).Single().ShouldBe(
            new BucketEntry(path, o.Before.Sha256!, 4, BucketIndex.ReadAll(Path.Combine(_dir, ".bucket")).Single().Time, "r1", false));
    }

    [Fact]
    public async Task NoopAndUnchanged_RecordNothing()
    {
        var path = Path.Combine(_dir, "b.conf");
        File.WriteAllText(path, "same\n");

        var noop = await RunAsync(true, Resource("file", path, ("content", "other\n", false)));
        var unchanged = await RunAsync(false, Resource("file", path, ("content", "same\n", false)));

        noop.Outcomes.Single().Before.ShouldBeNull();
        unchanged.Outcomes.Single().Before.ShouldBeNull();
        unchanged.Outcomes.Single().After.ShouldBeNull();
    }

    [Fact]
    public async Task FailedApply_StillRecordsBothStates()
    {
        var path = Path.Combine(_dir, "c.conf");
        File.WriteAllText(path, "keep\n");

        var result = await RunAsync(false, Resource("file", path, ("content", "bad\n", false), ("validate", "/bin/false %", false)));

        var o = result.Outcomes.Single();
        o.Status.ShouldBe(OutcomeStatus.Failed);
        o.Before!.Sha256.ShouldBe(o.After!.Sha256); // validation refused: nothing changed, and the report says so
    }

    [Fact]
    public async Task LinkWithSecretTarget_RecordsTheTargetRedacted()
    {
        var path = Path.Combine(_dir, "l");
        File.CreateSymbolicLink(path, "/etc/hostname");

        var result = await RunAsync(false, Resource("link", path, ("target", "/etc/secret-target", true)));

        var o = result.Outcomes.Single();
        o.Before!.Target.ShouldBe("(redacted)");
        o.After!.Target.ShouldBe("(redacted)");
        new FileInfo(path).LinkTarget.ShouldBe("/etc/secret-target");
    }
}
