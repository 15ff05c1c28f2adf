using System.Diagnostics;
using System.Text.Json.Nodes;
using Converge.Remote;
using Converge.Testing;

namespace Converge.Remote.Tests;

public class BundleTests
{
    /// <summary>
    /// The framing the host relies on, with the real head and tar: exactly the measured bytes are the
    /// bundle, and what the client writes after them (the interrupt line) is left for the watcher's read.
    /// </summary>
    [Fact]
    public async Task WriteExact_HeadAndTarReadOnlyTheBundle_TheNextLineIsLeftForTheReader()
    {
        using var repo = new TempDir();
        Directory.CreateDirectory(Path.Combine(repo.Path, "modules", "app"));
        File.WriteAllText(Path.Combine(repo.Path, "site.yaml"), "resources: []\n");
        File.WriteAllBytes(Path.Combine(repo.Path, "modules", "app", "blob.bin"), Enumerable.Range(0, 30000).Select(i => (byte)i).ToArray());
        Directory.CreateDirectory(Path.Combine(repo.Path, ".git"));
        File.WriteAllText(Path.Combine(repo.Path, ".git", "HEAD"), "ref: refs/heads/main\n");
        var bundle = new Bundle(repo.Path, []);
        var vars = new JsonObject { ["region"] = "eu-west" };
        var length = await bundle.MeasureAsync(vars, CancellationToken.None);
        length.ShouldBeGreaterThan(30000);

        using var into = new TempDir();
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"head -c {length} | tar -xf - -C {Shell.Quote(into.Path)} || exit 98; read -r l; echo \"after: [$l]\"");
        using var sh = Process.Start(psi)!;
        await bundle.WriteExactAsync(sh.StandardInput.BaseStream, vars, length, CancellationToken.None);
        await sh.StandardInput.BaseStream.FlushAsync();
        await Task.Delay(200); // let tar finish first: the line must not be taken for bundle bytes either way
        await sh.StandardInput.WriteAsync(RemoteScripts.InterruptLine);
        sh.StandardInput.Close();
        var stdout = await sh.StandardOutput.ReadToEndAsync();
        await sh.WaitForExitAsync();
        sh.ExitCode.ShouldBe(0, await sh.StandardError.ReadToEndAsync());
        stdout.ShouldBe("after: [interrupt]\n");
        File.ReadAllBytes(Path.Combine(into.Path, "site", "modules", "app", "blob.bin")).Length.ShouldBe(30000);
        File.ReadAllText(Path.Combine(into.Path, ".converge", "vars.json")).ShouldBe("{\"region\":\"eu-west\"}");
        Directory.Exists(Path.Combine(into.Path, "site", ".git")).ShouldBeFalse();
    }

    /// <summary>A bundle that came out shorter than measured (a file shrank in between) is padded with zeros: still a valid tar.</summary>
    [Fact]
    public async Task WriteExact_ShrunkFile_PaddedToTheMeasuredLength_TarStillReadsIt()
    {
        using var repo = new TempDir();
        var file = Path.Combine(repo.Path, "site.yaml");
        File.WriteAllText(file, new string('#', 5000) + "\n");
        var bundle = new Bundle(repo.Path, []);
        var length = await bundle.MeasureAsync(new JsonObject(), CancellationToken.None);
        File.WriteAllText(file, "resources: []\n");
        var sent = new MemoryStream();
        await bundle.WriteExactAsync(sent, new JsonObject(), length, CancellationToken.None);
        sent.Length.ShouldBe(length);

        using var into = new TempDir();
        var tar = await MachineRun(["tar", "-xf", "-", "-C", into.Path], sent.ToArray());
        tar.ShouldBe(0);
        File.ReadAllText(Path.Combine(into.Path, "site", "site.yaml")).ShouldBe("resources: []\n");

        File.WriteAllText(file, new string('#', 9000) + "\n");
        var grown = await Should.ThrowAsync<RemoteException>(() => bundle.WriteExactAsync(new MemoryStream(), new JsonObject(), length, CancellationToken.None));
        grown.Message.ShouldContain("the manifest repo changed while it was being sent");
    }

    private static async Task<int> MachineRun(string[] argv, byte[] stdin)
    {
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardInput = true };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        await p.StandardInput.BaseStream.WriteAsync(stdin);
        p.StandardInput.Close();
        await p.WaitForExitAsync();
        return p.ExitCode;
    }
}
