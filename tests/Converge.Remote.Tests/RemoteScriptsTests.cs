using System.Text.Json.Nodes;
using Converge.Remote;
using Converge.Testing;

namespace Converge.Remote.Tests;

public class RemoteScriptsTests
{
    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME `x` \"q\"", "'$HOME `x` \"q\"'")]
    public void Quote_AnyText_ShReadsItBack(string text, string quoted) => Shell.Quote(text).ShouldBe(quoted);

    [Fact]
    public async Task Quote_RealSh_ReadsBackEveryByte()
    {
        var nasty = "a'b\"c$d`e\\f g\nh*";
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("printf %s " + Shell.Quote(nasty));
        using var p = System.Diagnostics.Process.Start(psi)!;
        (await p.StandardOutput.ReadToEndAsync()).ShouldBe(nasty);
    }

    /// <summary>The scripts hosts run, pinned: quoting, sudo-free paths, cleanup and the apply argv (with the quoted operator).</summary>
    [Fact]
    public void Scripts_NoopWithTagsAndNode_MatchGolden()
    {
        var options = new RemoteRunOptions
        {
            Ssh = new SshOptions { KnownHosts = KnownHosts.Parse("") },
            Payloads = new PayloadLocator(null),
            Bundle = new Bundle("/srv/manifests", ["/usr/share/converge/modules", "/opt/more"]),
            Noop = true,
            Tags = ["web", "base"],
            Clean = true,
            ReportDir = "/tmp/reports",
            RunId = "run",
            Operator = "o'brien@laptop",
        };
        var host = new InventoryHost("web-01", "10.0.0.5", 22, "deploy", null, true, [], new JsonObject()) { Node = "web'01" };
        var text = string.Join("\n\n", [
            "probe: " + RemoteScripts.Probe("/var/cache/converge/bin"),
            "upload: " + RemoteScripts.Upload("/var/cache/converge/bin", "converge-abc"),
            "apply: " + RemoteScripts.Apply("/var/cache/converge/bin", "converge-abc", options, host, bundleLength: 20480)]) + "\n";
        Golden.Verify("scripts.txt", text);
    }

    [Fact]
    public void WriteTable_MixedStatuses_MatchesGolden()
    {
        InventoryHost H(string n) => new(n, n, 22, "root", null, false, [], new JsonObject());
        var results = new List<HostResult>
        {
            new(H("web-01"), HostStatus.Changed, TimeSpan.FromSeconds(1.94)) { Changed = 2 },
            new(H("web-02"), HostStatus.Ok, TimeSpan.FromSeconds(1.2)),
            new(H("db-01"), HostStatus.Failed, TimeSpan.FromSeconds(2.31)) { Failed = 1, Message = "1 resource failed" },
            new(H("web-03"), HostStatus.Unreachable, TimeSpan.FromSeconds(5)) { Message = "root@web-03:22: cannot connect: no answer within 5 s" },
            new(H("web-04"), HostStatus.NotStarted, TimeSpan.Zero) { Message = "interrupted" },
            new(H("web-05"), HostStatus.Interrupted, TimeSpan.FromSeconds(3.04))
            {
                Changed = 1, Message = "Ctrl-C: the running resource finished, 4 skipped",
                Timings = new HostTimings
                {
                    Connect = TimeSpan.FromSeconds(0.337), Probe = TimeSpan.FromSeconds(0.1), Upload = TimeSpan.FromSeconds(1.308),
                    Run = TimeSpan.FromSeconds(2.453), Remote = TimeSpan.FromSeconds(2.029),
                },
            },
        };
        var w = new StringWriter();
        FleetView.WriteTable(w, results, timings: true);
        Golden.Verify("table.txt", w.ToString());
    }
}
