using System.Security.Cryptography;
using System.Text;
using Converge.Remote;

namespace Converge.Remote.Tests;

public class KnownHostsTests
{
    // Real key blobs in the SSH wire format: string type, then key material.
    private static byte[] Blob(string type, byte seed)
    {
        var t = Encoding.ASCII.GetBytes(type);
        var key = new byte[32];
        Array.Fill(key, seed);
        var blob = new byte[4 + t.Length + 4 + key.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(blob, t.Length);
        t.CopyTo(blob, 4);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(blob.AsSpan(4 + t.Length), key.Length);
        key.CopyTo(blob, 8 + t.Length);
        return blob;
    }

    private static readonly byte[] KeyA = Blob("ssh-ed25519", 1);
    private static readonly byte[] KeyB = Blob("ssh-ed25519", 2);
    private static string B64(byte[] b) => Convert.ToBase64String(b);

    private static string Hashed(string name, byte[] salt) =>
        $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name)))}";

    [Fact]
    public void Check_PlainLineWithSameKey_Trusted()
    {
        var known = KnownHosts.Parse($"web-01,169.254.1.2 ssh-ed25519 {B64(KeyA)} comment\n");
        known.Check("169.254.1.2", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("web-01", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("WEB-01", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted); // host names compare without case, as in OpenSSH
    }

    [Fact]
    public void Check_NoLineForHost_Unknown()
    {
        var known = KnownHosts.Parse($"web-01 ssh-ed25519 {B64(KeyA)}\n");
        var check = known.Check("web-02", 22, KeyA);
        check.Verdict.ShouldBe(HostKeyVerdict.Unknown);
        check.Describe("web-02", "kh").ShouldBe(
            $"host key for web-02 is not in kh: offered ssh-ed25519 {KnownHosts.Fingerprint(KeyA)}. Refusing to connect; check the fingerprint and pass --accept-new to record it");
    }

    [Fact]
    public void Check_DifferentKey_ChangedWithBothFingerprints()
    {
        var known = KnownHosts.Parse($"web-01 ssh-ed25519 {B64(KeyA)}\n");
        var check = known.Check("web-01", 22, KeyB);
        check.Verdict.ShouldBe(HostKeyVerdict.Changed);
        check.Expected.ShouldBe([$"ssh-ed25519 {KnownHosts.Fingerprint(KeyA)}"]);
        check.OfferedFingerprint.ShouldBe(KnownHosts.Fingerprint(KeyB));
        check.Describe("web-01", "kh").ShouldContain($"offered ssh-ed25519 {KnownHosts.Fingerprint(KeyB)}, expected ssh-ed25519 {KnownHosts.Fingerprint(KeyA)}");
    }

    [Fact]
    public void Check_NonStandardPort_UsesBracketForm()
    {
        var known = KnownHosts.Parse($"[web-01]:2222 ssh-ed25519 {B64(KeyA)}\nweb-01 ssh-ed25519 {B64(KeyB)}\n");
        known.Check("web-01", 2222, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("web-01", 2222, KeyB).Verdict.ShouldBe(HostKeyVerdict.Changed);
        known.Check("web-01", 22, KeyB).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("web-01", 2200, KeyA).Verdict.ShouldBe(HostKeyVerdict.Unknown);
    }

    [Fact]
    public void Check_HashedNames_MatchPlainAndBracketForms()
    {
        var salt = Enumerable.Range(0, 20).Select(i => (byte)i).ToArray();
        var known = KnownHosts.Parse(
            $"{Hashed("169.254.1.2", salt)} ssh-ed25519 {B64(KeyA)}\n{Hashed("[169.254.1.6]:2222", salt)} ssh-ed25519 {B64(KeyB)}\n");
        known.Check("169.254.1.2", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("169.254.1.2", 22, KeyB).Verdict.ShouldBe(HostKeyVerdict.Changed);
        known.Check("169.254.1.6", 2222, KeyB).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("169.254.1.6", 22, KeyB).Verdict.ShouldBe(HostKeyVerdict.Unknown);
    }

    [Fact]
    public void Check_WildcardsAndNegation_FollowOpenSsh()
    {
        var known = KnownHosts.Parse($"web-*,!web-03 ssh-ed25519 {B64(KeyA)}\n169.254.1.? ssh-ed25519 {B64(KeyB)}\n");
        known.Check("web-01", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("web-03", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Unknown);
        known.Check("169.254.1.9", 22, KeyB).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.Check("169.254.1.10", 22, KeyB).Verdict.ShouldBe(HostKeyVerdict.Unknown);
    }

    [Fact]
    public void Check_RevokedKey_RefusedEvenWhenAlsoListed()
    {
        var known = KnownHosts.Parse($"web-01 ssh-ed25519 {B64(KeyA)}\n@revoked * ssh-ed25519 {B64(KeyA)}\n");
        known.Check("web-01", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Changed);
    }

    [Fact]
    public void Parse_CommentsBlankAndDamagedLines_Ignored()
    {
        var known = KnownHosts.Parse($"# comment\n\nweb-01 ssh-ed25519 not-base64!\n@cert-authority * ssh-ed25519 {B64(KeyB)}\nweb-01 ssh-ed25519 {B64(KeyA)}\n");
        known.Check("web-01", 22, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
        known.KeyTypesFor("web-01", 22).ShouldBe(["ssh-ed25519"]);
        known.KeyTypesFor("db-01", 22).ShouldBeEmpty();
    }

    [Fact]
    public void Fingerprint_MatchesOpenSshFormat()
    {
        // ssh-keygen -lf prints SHA256:<unpadded base64 of sha256(blob)>.
        KnownHosts.Fingerprint(KeyA).ShouldBe("SHA256:" + Convert.ToBase64String(SHA256.HashData(KeyA)).TrimEnd('='));
        KnownHosts.KeyType(KeyA).ShouldBe("ssh-ed25519");
    }

    [Fact]
    public void Append_NewHost_WritesLineAndTrustsIt()
    {
        var dir = Directory.CreateTempSubdirectory("converge-knownhosts-");
        try
        {
            var path = Path.Combine(dir.FullName, "ssh", "known_hosts");
            var known = KnownHosts.Load(path);
            known.Check("169.254.1.2", 2222, KeyA).Verdict.ShouldBe(HostKeyVerdict.Unknown);
            known.Append("169.254.1.2", 2222, KeyA);
            File.ReadAllText(path).ShouldBe($"[169.254.1.2]:2222 ssh-ed25519 {B64(KeyA)}\n");
            known.Check("169.254.1.2", 2222, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
            KnownHosts.Load(path).Check("169.254.1.2", 2222, KeyA).Verdict.ShouldBe(HostKeyVerdict.Trusted);
            File.GetUnixFileMode(Path.GetDirectoryName(path)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Append_FileWithoutFinalNewline_StartsANewLine()
    {
        var dir = Directory.CreateTempSubdirectory("converge-knownhosts-");
        try
        {
            var path = Path.Combine(dir.FullName, "known_hosts");
            File.WriteAllText(path, $"web-01 ssh-ed25519 {B64(KeyA)}");
            KnownHosts.Load(path).Append("web-02", 22, KeyB);
            File.ReadAllLines(path).ShouldBe([$"web-01 ssh-ed25519 {B64(KeyA)}", $"web-02 ssh-ed25519 {B64(KeyB)}"]);
        }
        finally { dir.Delete(recursive: true); }
    }
}
