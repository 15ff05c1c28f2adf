using Converge.Providers.AuthorizedKey;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.AuthorizedKey;

public class AuthorizedKeyTests
{
    private const string Blob = "AAAAC3NzaC1lZDI1NTE5AAAAICtIywl7umHz0JSzGYhip00SZwQHQTjXLTKmawbnA6J2";
    private const string Line = "ssh-ed25519 " + Blob + " alice@laptop";
    private const string RsaBlob = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7FfVvA7aqOpPFEe6MqJhwno9Ow27w17Nq8rPCz+VBtwBgvTTSw+aI3yAqpvyKSijZFJOFEOlq05RC2+854tWtk7pK9qjsK9q5Vc/bhGvMvNbqlYNJtp2gISVxlCtr8+pO+gnlOcXGIpQOIwftTNu8V69vcS5tzUQXbFS13q3gqw==";

    private readonly AuthorizedKeyProvider _provider = new();

    private AuthorizedKeySpec Spec(params (string, object)[] properties) =>
        ParseOk<AuthorizedKeySpec>(_provider, Resource("authorized_key", "alice-laptop", properties));

    [Fact]
    public void Parse_WholeLineWithOptions_BuildsSpec()
    {
        var spec = Spec(("user", "alice"), ("key", Quoted(Line)), ("options", List(Plain("from=\"10.0.0.0/8\""), Plain("no-pty"))));
        spec.KeyType.ShouldBe("ssh-ed25519");
        spec.Blob.ShouldBe(Blob);
        spec.Comment.ShouldBe("alice@laptop");
        spec.Line.ShouldBe("from=\"10.0.0.0/8\",no-pty " + Line);
    }

    [Fact]
    public void Parse_TypeKeyComment_BuildsSameLine()
    {
        Spec(("user", "alice"), ("type", "ssh-ed25519"), ("key", Blob), ("comment", "alice@laptop")).Line.ShouldBe(Line);
    }

    [Fact]
    public void Parse_BlobOfAnotherType_ReportsAtKey()
    {
        var (_, errors) = Parse<AuthorizedKeySpec>(_provider, Resource("authorized_key", "k", ("user", "alice"), ("key", Quoted("ssh-ed25519 " + RsaBlob))));
        errors.ShouldBe(["site.yaml:3:8: error CVG4125: authorized_key[k]: key data is a ssh-rsa key but the type says ssh-ed25519"]);
    }

    [Fact]
    public void Parse_BadBase64UnknownTypeAndBadOption_Report()
    {
        var (_, base64) = Parse<AuthorizedKeySpec>(_provider, Resource("authorized_key", "k", ("user", "alice"), ("key", Quoted("ssh-ed25519 AAAA!!"))));
        base64.ShouldBe(["site.yaml:3:8: error CVG4125: authorized_key[k]: key is not valid base64 (is it cut short or wrapped over lines?)"]);
        var (_, type) = Parse<AuthorizedKeySpec>(_provider, Resource("authorized_key", "k", ("user", "alice"), ("type", "ssh-ed448"), ("key", Blob)));
        type.ShouldBe(["site.yaml:3:9: error CVG4125: authorized_key[k]: key type must be one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com, ssh-dss; got ssh-ed448"]);
        var (_, option) = Parse<AuthorizedKeySpec>(_provider, Resource("authorized_key", "k", ("user", "alice"), ("key", Quoted(Line)), ("options", List(Plain("from=10.0.0.1")))));
        option.ShouldBe(["site.yaml:4:13: error CVG4126: authorized_key[k]: option 'from=10.0.0.1' must be a name such as no-pty, or name=\"value\" with the value in double quotes (from=\"10.0.0.0/8\")"]);
    }

    [Fact]
    public void Parse_Missing_ReportsUserAndKey()
    {
        var (_, errors) = Parse<AuthorizedKeySpec>(_provider, Resource("authorized_key", "k"));
        errors.ShouldBe([
            "site.yaml:1:3: error CVG4002: authorized_key[k]: missing required property 'key'",
            "site.yaml:1:3: error CVG4002: authorized_key[k]: missing required property 'user'",
        ]);
    }

    [Fact]
    public void AutoRequiresAndExclusiveKey_User()
    {
        var spec = Spec(("user", "alice"), ("key", Quoted(Line)));
        _provider.AutoRequires(spec).Select(r => string.Join(" | ", r.FirstOf)).ShouldBe(["user[alice]"]);
        ((IResourceProvider)_provider).ExclusiveKey(spec).ShouldBe("authorized_keys:alice");
    }

    private static AuthorizedKeyActual Existing(string content) => new()
    {
        Account = ("/home/alice", 1000, 1000),
        DirectoryStatus = new FileStatus(FileKind.Directory, new UnixMode(0b111_000_000), 1000, 1000, 0, null),
        FileStatus = new FileStatus(FileKind.File, new UnixMode(0b110_000_000), 1000, 1000, content.Length, null),
        Content = content,
    };

    [Fact]
    public void Diff_ChangedCommentAndOptions_UpdatesLineInPlace()
    {
        var content = "# team keys\n" + Line + "\nssh-rsa " + RsaBlob + " bob\n";
        var spec = Spec(("user", "alice"), ("key", Quoted("ssh-ed25519 " + Blob + " alice@new")), ("options", List(Plain("no-pty"))));
        var change = _provider.Diff(spec, Existing(content)).Single();
        change.Property.ShouldBe("key");
        change.From.ShouldBe(Line);
        change.To.ShouldBe("no-pty ssh-ed25519 " + Blob + " alice@new");
        change.UnifiedDiff.ShouldBe($"""
            --- /home/alice/.ssh/authorized_keys
            +++ /home/alice/.ssh/authorized_keys
            @@ -1,3 +1,3 @@
             # team keys
            -{Line}
            +no-pty ssh-ed25519 {Blob} alice@new
             ssh-rsa {RsaBlob} bob

            """);
    }

    [Fact]
    public void Diff_SameLine_IsEmpty_AndLooseModesAreFixed()
    {
        var spec = Spec(("user", "alice"), ("key", Quoted(Line)));
        _provider.Diff(spec, Existing(Line + "\n")).ShouldBeEmpty();
        var loose = Existing(Line + "\n") with { FileStatus = new FileStatus(FileKind.File, new UnixMode(0b110_100_100), 0, 0, 1, null) };
        _provider.Diff(spec, loose).Select(ConvergenceKit.Show).ShouldBe(["mode: 0644 -> 0600", "owner: 0:0 -> 1000:1000"]);
    }

    [Fact]
    public void Diff_NoSshDirectory_CreatesItThenTheFile()
    {
        var spec = Spec(("user", "alice"), ("key", Quoted(Line)));
        var changes = _provider.Diff(spec, new AuthorizedKeyActual { Account = ("/home/alice", 1000, 1000) });
        changes.Select(c => $"{c.Property}: {c.From} -> {c.To}").ShouldBe([
            "ssh_directory: absent -> /home/alice/.ssh 0700 1000:1000",
            $"key: absent -> {Line}",
        ]);
    }

    [Fact]
    public void Diff_Absent_RemovesOnlyThatKey()
    {
        var spec = Spec(("user", "alice"), ("key", Quoted(Line)), ("ensure", "absent"));
        var change = _provider.Diff(spec, Existing("from=\"x y\" " + Line + "\nssh-rsa " + RsaBlob + " bob\n")).Single();
        change.Property.ShouldBe("ensure");
        AuthorizedKeyProvider.Edit("from=\"x y\" " + Line + "\nssh-rsa " + RsaBlob + " bob\n", spec)!.Value.Content.ShouldBe("ssh-rsa " + RsaBlob + " bob\n");
        _provider.Diff(spec, new AuthorizedKeyActual()).ShouldBeEmpty("no such user: nothing to remove");
    }

    [Fact]
    public void Diff_UnknownUser_Throws()
    {
        Should.Throw<ProviderException>(() => _provider.Diff(Spec(("user", "alice"), ("key", Quoted(Line))), new AuthorizedKeyActual()))
            .Message.ShouldBe("user alice does not exist; create it (a user resource is required automatically) or use a numeric uid");
    }

    [Fact]
    public void Diff_HomeMissing_ThrowsNamingIt()
    {
        // Found in a host (AuthorizedKeyKitTests): --noop planned ~/.ssh, apply failed in mkdir.
        var actual = new AuthorizedKeyActual { Account = ("/home/alice", 1000, 1000), HomeMissing = true };
        Should.Throw<ProviderException>(() => _provider.Diff(Spec(("user", "alice"), ("key", Quoted(Line))), actual)).Message.ShouldBe(
            "home directory /home/alice of user alice does not exist; create it (managehome: true on the user, or a directory resource) — authorized_key does not make homes");
        _provider.Diff(Spec(("user", "alice"), ("key", Quoted(Line)), ("ensure", "absent")), actual).ShouldBeEmpty("no home: no key to remove");
    }

    /// <summary>A real machine whose users database answers one user with a temp home.</summary>
    private sealed class TempHomeSystem(string home, int uid, int gid) : ISystem
    {
        private readonly LocalSystem _local = new();
        public FileStatus? Stat(string path) => _local.Stat(path);
        public byte[] ReadAllBytes(string path) => _local.ReadAllBytes(path);
        public IReadOnlyList<string> ListDirectory(string path) => _local.ListDirectory(path);
        public void WriteFileAtomic(string path, ReadOnlySpan<byte> content, Machine.FileAttributes attributes) => _local.WriteFileAtomic(path, content, attributes);
        public void CreateDirectory(string path, Machine.FileAttributes attributes) => _local.CreateDirectory(path, attributes);
        public void CreateSymlink(string path, string target) => _local.CreateSymlink(path, target);
        public void SyncDirectories() => _local.SyncDirectories();
        public void SetMode(string path, UnixMode mode) => _local.SetMode(path, mode);
        public void SetOwner(string path, int? u, int? g) => _local.SetOwner(path, u, g);
        public void DeleteFile(string path) => _local.DeleteFile(path);
        public void DeleteDirectory(string path, bool recursive) => _local.DeleteDirectory(path, recursive);
        public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct) => _local.RunAsync(spec, ct);
        public IUserDatabase Users { get; } = new OneUser(home, uid, gid);

        private sealed class OneUser(string home, int uid, int gid) : IUserDatabase
        {
            public int? UidOf(string user) => user == "alice" ? uid : null;
            public int? GidOf(string group) => null;
            public string? UserName(int id) => null;
            public string? GroupName(int id) => null;
            public (string Home, int Uid, int Gid)? Account(string user) => user == "alice" ? (home, uid, gid) : null;
        }
    }

    [Fact]
    public async Task Converge_RealFiles_CreatesModesKeepsOtherLinesAndUpdatesInPlace()
    {
        using var temp = new TempDirectory();
        using var bucket = new TempDirectory();
        var me = new LocalSystem().Stat(temp.Path)!;
        var system = new TempHomeSystem(temp.Path, me.Uid, me.Gid);
        var context = new ProviderContext(system, new FileBucket(bucket.Path), new HashSet<string>());
        async Task<IReadOnlyList<Change>> Run(AuthorizedKeySpec spec, bool apply)
        {
            var actual = await _provider.ReadAsync(spec, context, CancellationToken.None);
            var changes = _provider.Diff(spec, actual);
            if (apply) await _provider.ApplyAsync(spec, actual, changes, context, CancellationToken.None);
            return changes;
        }

        var spec = Spec(("user", "alice"), ("key", Quoted(Line)), ("options", List(Plain("no-pty"))));
        var planned = await Run(spec, apply: false);
        (await Run(spec, apply: true)).Select(ConvergenceKit.Show).ShouldBe(planned.Select(ConvergenceKit.Show));
        (await Run(spec, apply: false)).ShouldBeEmpty();
        var dir = system.Stat(temp["/.ssh"])!;
        dir.Mode.ToOctal().ShouldBe("0700");
        var file = system.Stat(temp["/.ssh/authorized_keys"])!;
        file.Mode.ToOctal().ShouldBe("0600");
        (file.Uid, file.Gid).ShouldBe((me.Uid, me.Gid));

        // A hand-added key and a comment stay; a new comment updates the line, not a duplicate.
        var path = temp["/.ssh/authorized_keys"];
        IOFile.AppendAllText(path, "# added by hand\nssh-rsa " + RsaBlob + " bob\n");
        var renamed = Spec(("user", "alice"), ("key", Quoted("ssh-ed25519 " + Blob + " alice@desk")));
        (await Run(renamed, apply: true)).Select(c => c.Property).ShouldBe(["key"]);
        IOFile.ReadAllText(path).ShouldBe("ssh-ed25519 " + Blob + " alice@desk\n# added by hand\nssh-rsa " + RsaBlob + " bob\n");
        (await Run(renamed, apply: false)).ShouldBeEmpty();

        // Drift of the mode is reported and fixed; absent removes only that line.
        system.SetMode(path, new UnixMode(0b110_100_100));
        (await Run(renamed, apply: true)).Select(ConvergenceKit.Show).ShouldBe(["mode: 0644 -> 0600"]);
        var absent = Spec(("user", "alice"), ("key", Quoted(Line)), ("ensure", "absent"));
        (await Run(absent, apply: true)).Select(c => c.Property).ShouldBe(["ensure"]);
        IOFile.ReadAllText(path).ShouldBe("# added by hand\nssh-rsa " + RsaBlob + " bob\n");
        (await Run(absent, apply: false)).ShouldBeEmpty();
    }
}
