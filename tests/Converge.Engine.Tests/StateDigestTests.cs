using System.Text;
using Converge.Compiler.Catalog;
using Converge.Engine.Plans;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;
using Converge.Providers.File;
using Converge.Providers.Package;
using Converge.Providers.Service;

namespace Converge.Engine.Tests;

/// <summary>Keyed, canonical digests of actual and desired state: stable when nothing changed, and naming the field that did.</summary>
public class StateDigestTests
{
    private static readonly StateDigest Digest = new(PlanKey.FromBytes(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));

    private static FileActual File(string content, int mode = 0b110_100_100, long? size = null) => new()
    {
        Status = new FileStatus(FileKind.File, new UnixMode(mode), 0, 0, size ?? content.Length, null),
        Content = Encoding.UTF8.GetBytes(content),
        DesiredContent = Encoding.UTF8.GetBytes("wanted\n"),
    };

    [Fact]
    public void Actual_SameStateReadTwice_SameDigest()
    {
        var (a, fa) = Digest.Actual(File("a\n"));
        var (b, fb) = Digest.Actual(File("a\n")); // equal records, separately built
        b.ShouldBe(a);
        fb.ShouldBe(fa);
    }

    [Fact]
    public void Actual_ContentChanged_DigestAndContentFieldDiffer_BytesNeverInTheFields()
    {
        var (a, fa) = Digest.Actual(File("a\n"));
        var (b, fb) = Digest.Actual(File("b\n"));
        a.ShouldNotBe(b);
        fa["content"].ShouldNotBe(fb["content"]);
        fa["status.mode"].ShouldBe(fb["status.mode"]);
        fa["desiredContent"].ShouldBe(fb["desiredContent"]);
        fa.Values.ShouldAllBe(v => v.Length == 16);
    }

    [Fact]
    public void Actual_ModeChanged_NamesStatusMode()
    {
        var (_, fa) = Digest.Actual(File("a\n", mode: 0b110_100_100));
        var (_, fb) = Digest.Actual(File("a\n", mode: 0b110_000_000));
        fa.Keys.Where(k => fa[k] != fb[k]).ShouldBe(["status.mode"]);
    }

    [Fact]
    public void Actual_DirectorySize_IsNotState_FileSizeIs()
    {
        FileStatus Dir(long size) => new(FileKind.Directory, new UnixMode(0b111_101_101), 0, 0, size, null);
        Digest.Actual(new FileActual { Status = Dir(4096) }).Digest.ShouldBe(Digest.Actual(new FileActual { Status = Dir(12288) }).Digest);
        Digest.Actual(File("a\n", size: 2)).Digest.ShouldNotBe(Digest.Actual(File("a\n", size: 3)).Digest);
    }

    [Fact]
    public void Actual_TimeValues_AreLeftOut_PackageListsAge()
    {
        var young = new PackageActual("nginx", PackageState.Installed, "1.22") { ListsAge = TimeSpan.FromMinutes(3) };
        var older = young with { ListsAge = TimeSpan.FromMinutes(9) };
        Digest.Actual(young).Digest.ShouldBe(Digest.Actual(older).Digest);
        Digest.Actual(young).Digest.ShouldNotBe(Digest.Actual(young with { Version = "1.24" }).Digest);
    }

    [Fact]
    public void Actual_ServiceStopped_IsDrift()
    {
        var running = new ServiceActual("runit", Running: true, Enabled: true);
        var (_, fa) = Digest.Actual(running);
        var (_, fb) = Digest.Actual(running with { Running = false });
        fa.Keys.Where(k => fa[k] != fb[k]).ShouldBe(["running"]); // RunningDisplay is computed from it: not state twice
    }

    [Fact]
    public void Digests_DependOnTheHostKey()
    {
        var other = new StateDigest(PlanKey.FromBytes(new byte[32]));
        other.Actual(File("a\n")).Digest.ShouldNotBe(Digest.Actual(File("a\n")).Digest);
        other.KeyId.ShouldNotBe(Digest.KeyId);
    }

    [Fact]
    public void Changes_FromIsLeftOut_ArgvAndToCount()
    {
        var planned = new Change("cache", "lists 3 h old", "updated", ["apt-get", "update"]);
        Digest.Changes([planned]).ShouldBe(Digest.Changes([planned with { From = "lists 4 h old" }]));
        Digest.Changes([planned]).ShouldNotBe(Digest.Changes([planned with { Argv = ["apt-get", "-q", "update"] }]));
        Digest.Changes([planned]).ShouldNotBe(Digest.Changes([planned with { To = "purged" }]));
        Digest.Changes([]).ShouldNotBe(Digest.Changes([planned]));
    }

    [Fact]
    public void Desired_WhereItIsWritten_DoesNotCount_WhatItSays_Does()
    {
        CatalogResource R(int line, string text, bool quoted = true) => new()
        {
            Id = new ResourceId("file", "/etc/motd"),
            Span = new SourceSpan("site.yaml", line, 3, line, 9),
            Properties = new Dictionary<string, Value> { ["mode"] = new ScalarValue(new SourceSpan("site.yaml", line + 1, 5, line + 1, 9), text, quoted) },
            BaseDirectory = line == 1 ? "/srv/a" : "/srv/b",
        };
        Digest.Desired(R(1, "0644")).ShouldBe(Digest.Desired(R(7, "0644")));
        Digest.Desired(R(1, "0644")).ShouldNotBe(Digest.Desired(R(1, "0600")));
        Digest.Desired(R(1, "644")).ShouldNotBe(Digest.Desired(R(1, "644", quoted: false)));
        Digest.Catalog("web", [R(1, "0644")]).ShouldNotBe(Digest.Catalog("db", [R(1, "0644")]));
    }

    [Fact]
    public void Key_CreatedOnce_0600_ReusedAfterwards()
    {
        var dir = Directory.CreateTempSubdirectory("converge-plankey-").FullName;
        try
        {
            var first = PlanKey.LoadOrCreate(dir);
            var again = PlanKey.LoadOrCreate(dir);
            again.Bytes.ShouldBe(first.Bytes);
            first.Bytes.Length.ShouldBe(32);
            System.IO.File.GetUnixFileMode(Path.Combine(dir, PlanKey.FileName)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Directory.GetFiles(dir).Length.ShouldBe(1, "no temp file left behind");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
