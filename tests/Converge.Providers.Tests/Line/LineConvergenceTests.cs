using System.Text;
using Converge.Providers.Line;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Line;

/// <summary>The line provider against real files (LocalSystem) in a fresh temp directory per test.</summary>
public sealed class LineConvergenceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TempDirectory _bucketDir = new();
    private readonly LineProvider _provider = new();
    private readonly ConvergenceKit _kit;

    public LineConvergenceTests() => _kit = new ConvergenceKit(_provider, _bucketDir.Path);

    public void Dispose()
    {
        _dir.Dispose();
        _bucketDir.Dispose();
    }

    private LineSpec Spec(string file, params (string, object)[] properties) =>
        ParseOk<LineSpec>(_provider, Resource("line", "x", [("path", _dir[file]), .. properties]));

    [Fact]
    public async Task Converge_MatchReplace_KeepsModeAndBacksUpOldContent()
    {
        var path = _dir["sshd_config"];
        var old = "Port 22\n#PermitRootLogin yes\n";
        await IOFile.WriteAllTextAsync(path, old);
        IOFile.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var change = (await _kit.ConvergeAsync(Spec("sshd_config", ("text", Quoted("PermitRootLogin no")), ("match", Quoted("^#?PermitRootLogin"))))).Single();

        IOFile.ReadAllText(path).ShouldBe("Port 22\nPermitRootLogin no\n");
        IOFile.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _kit.Bucket.Load(change.Backup!).ShouldBe(Encoding.UTF8.GetBytes(old));
    }

    [Fact]
    public async Task Converge_InsertAfterAnchorAndRemove_ThenDriftShowsUp()
    {
        var path = _dir["hosts.allow"];
        await IOFile.WriteAllTextAsync(path, "# header\nALL: LOCAL\nsshd: ALL\n");
        var add = Spec("hosts.allow", ("text", Quoted("sshd: 10.0.0.0/8")), ("insert_after", Quoted("^#")));
        var remove = Spec("hosts.allow", ("ensure", "absent"), ("text", Quoted("sshd: ALL")));

        await _kit.ConvergeAsync(add);
        await _kit.ConvergeAsync(remove);
        IOFile.ReadAllText(path).ShouldBe("# header\nsshd: 10.0.0.0/8\nALL: LOCAL\n");

        await IOFile.AppendAllTextAsync(path, "sshd: ALL\n");
        var drift = (await _kit.PlanAsync(remove)).Single();
        drift.UnifiedDiff.ShouldBe($"--- {path}\n+++ {path}\n@@ -1,4 +1,3 @@\n # header\n sshd: 10.0.0.0/8\n ALL: LOCAL\n-sshd: ALL\n");
        (await _kit.PlanAsync(add)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Converge_CreateTrue_CreatesFileWithTheLine()
    {
        var path = _dir["new.conf"];
        var change = (await _kit.ConvergeAsync(Spec("new.conf", ("text", "enabled=1"), ("create", "true")))).Single();
        change.Backup.ShouldBeNull();
        IOFile.ReadAllText(path).ShouldBe("enabled=1\n");
    }

    [Fact]
    public async Task Apply_FileChangedSinceRead_WritesNothing()
    {
        var path = _dir["app.conf"];
        await IOFile.WriteAllTextAsync(path, "a\n");
        var spec = Spec("app.conf", ("text", "b"));
        var actual = await _provider.ReadAsync(spec, _kit.Context, CancellationToken.None);
        var changes = _provider.Diff(spec, actual);
        await IOFile.WriteAllTextAsync(path, "edited\n");

        var e = await Should.ThrowAsync<ProviderException>(async () => await _provider.ApplyAsync(spec, actual, changes, _kit.Context, CancellationToken.None));
        e.Message.ShouldBe($"{path} changed after it was read for the plan; nothing was written — run again");
        IOFile.ReadAllText(path).ShouldBe("edited\n");
    }

    [Fact]
    public async Task Apply_BackupOff_StoresNothing()
    {
        await IOFile.WriteAllTextAsync(_dir["f"], "a\n");
        var change = (await _kit.ConvergeAsync(Spec("f", ("text", "b"), ("backup", "false")))).Single();
        change.Backup.ShouldBeNull();
        IODirectory.EnumerateFiles(_bucketDir.Path, "*", SearchOption.AllDirectories).ShouldBeEmpty();
    }
}
