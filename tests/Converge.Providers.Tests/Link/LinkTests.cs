using Converge.Providers.Link;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Link;

public class LinkParseTests
{
    private readonly LinkProvider _provider = new();

    [Fact]
    public void Parse_TargetMissing_Reports()
    {
        var (spec, errors) = Parse<LinkSpec>(_provider, Resource("link", "/etc/alt"));
        spec.ShouldBeNull();
        errors.ShouldBe(["site.yaml:1:3: error CVG4002: link[/etc/alt]: missing required property 'target' unless ensure is absent"]);
    }

    [Fact]
    public void Parse_AbsentWithoutTarget_IsFine()
    {
        ParseOk<LinkSpec>(_provider, Resource("link", "/etc/alt", ("ensure", "absent"))).Target.ShouldBeNull();
    }

    [Fact]
    public void Parse_RelativeTarget_KeptAsWritten()
    {
        ParseOk<LinkSpec>(_provider, Resource("link", "/etc/alt", ("target", "../x"))).Target.ShouldBe("../x");
    }

    [Fact]
    public void Diff_Retarget_PlansTargetOldToNew()
    {
        var spec = new LinkSpec { Id = new("link", "/l"), Path = "/l", Target = "/new" };
        var actual = new LinkActual { Status = new FileStatus(FileKind.Symlink, new UnixMode(0x1FF), 0, 0, 4, "/old") };
        ConvergenceKit.Show(_provider.Diff(spec, actual)).ShouldBe(["target: /old -> /new"]);
    }
}

/// <summary>The link provider against real symlinks in a fresh temp directory per test.</summary>
public sealed class LinkConvergenceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TempDirectory _bucketDir = new();
    private readonly LinkProvider _provider = new();
    private readonly ConvergenceKit _kit;

    public LinkConvergenceTests() => _kit = new ConvergenceKit(_provider, _bucketDir.Path);

    public void Dispose()
    {
        _dir.Dispose();
        _bucketDir.Dispose();
    }

    private LinkSpec Spec(string name, params (string, object)[] properties) =>
        ParseOk<LinkSpec>(_provider, Resource("link", _dir[name], properties));

    [Fact]
    public async Task Converge_NewLink_CreatesItThenRetargetsOnDrift()
    {
        var path = _dir["current"];
        var spec = Spec("current", ("target", "releases/2"));
        ConvergenceKit.Show(await _kit.ConvergeAsync(spec)).ShouldBe(["ensure: absent -> link", "target: null -> releases/2"]);
        _kit.System.Stat(path)!.LinkTarget.ShouldBe("releases/2");

        IOFile.Delete(path);
        IOFile.CreateSymbolicLink(path, "releases/1");
        ConvergenceKit.Show(await _kit.ConvergeAsync(spec)).ShouldBe(["target: releases/1 -> releases/2"]);
        _kit.System.Stat(path)!.LinkTarget.ShouldBe("releases/2");
    }

    [Fact]
    public async Task FileAtPath_WithoutForce_RefusedAndUntouched()
    {
        await IOFile.WriteAllTextAsync(_dir["l"], "data");
        var error = await Should.ThrowAsync<ProviderException>(() => _kit.ApplyAsync(Spec("l", ("target", "/etc/hostname"))));
        error.Message.ShouldBe($"{_dir["l"]} is a regular file, not a symlink; add force: true to replace it with the link");
        IOFile.ReadAllText(_dir["l"]).ShouldBe("data");
    }

    [Fact]
    public async Task FileAtPath_WithForce_BackedUpAndReplaced()
    {
        await IOFile.WriteAllTextAsync(_dir["l"], "data");
        var applied = await _kit.ConvergeAsync(Spec("l", ("target", "/etc/hostname"), ("force", "true")));

        ConvergenceKit.Show(applied).ShouldBe([$"ensure: file -> link backup={ContentText.Sha256("data"u8)}", "target: null -> /etc/hostname"]);
        _kit.System.Stat(_dir["l"])!.Kind.ShouldBe(FileKind.Symlink);
        _kit.Bucket.Load(applied[0].Backup!).ShouldNotBeNull();
    }

    [Fact]
    public async Task DirectoryAtPath_WithForce_RemovedRecursively()
    {
        IODirectory.CreateDirectory(_dir["d/sub"]);
        await IOFile.WriteAllTextAsync(_dir["d/sub/f"], "x");
        await _kit.ConvergeAsync(Spec("d", ("target", "/tmp"), ("force", "true")));
        _kit.System.Stat(_dir["d"])!.LinkTarget.ShouldBe("/tmp");
    }

    [Fact]
    public async Task Absent_RemovesLinkButNotItsTarget()
    {
        await IOFile.WriteAllTextAsync(_dir["t"], "x");
        IOFile.CreateSymbolicLink(_dir["l"], _dir["t"]);
        ConvergenceKit.Show(await _kit.ConvergeAsync(Spec("l", ("ensure", "absent")))).ShouldBe(["ensure: link -> absent"]);
        _kit.System.Stat(_dir["l"]).ShouldBeNull();
        IOFile.Exists(_dir["t"]).ShouldBeTrue();
    }
}
