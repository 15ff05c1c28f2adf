using System.Text.Json.Nodes;
using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The <c>package</c> type with real apt-get and dpkg inside a throwaway host: tiny .deb files built
/// with dpkg-deb (cvg-hello 1.0 and 2.0, each with a conffile), served from a local repository at
/// <c>file:/srv/repo</c> that is the host's only apt source. No internet.
/// </summary>
public class PackageTests(ITestOutputHelper output)
{
    private const string Install = """["apt-get","install","-y","-q","--no-install-recommends","-o","Dpkg::Options::=--force-confold",""";

    /// <summary>Builds the packages and the repository inside the host, makes it apt's only source, and runs apt-get update.</summary>
    private static async Task<ThrowawayHost> StartWithRepositoryAsync()
    {
        var host = ThrowawayHost.Start();
        try
        {
            await LocalAptRepository.CreateAsync(host, ("cvg-hello", "1.0"), ("cvg-hello", "2.0"), ("cvg-other", "1.0"));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    private async Task<ConvergeRun> RunAsync(ThrowawayHost host, string site, bool noop, int expectedExit)
    {
        await host.WriteFileAsync("/root/site/site.yaml", site);
        var run = await host.ConvergeAsync(noop ? ["apply", "/root/site", "--json", "--noop"] : ["apply", "/root/site", "--json"]);
        run.ExitCode.ShouldBe(expectedExit, run.ToString());
        return run;
    }

    /// <summary>The kit for one site: --noop predicts, apply does exactly that, a new plan and a second apply are empty.</summary>
    private async Task<string> ConvergeKitAsync(ThrowawayHost host, string site)
    {
        var plan = await RunAsync(host, site, noop: true, expectedExit: 2);
        var text = await host.ConvergeAsync(["apply", "/root/site", "--noop"]);
        output.WriteLine(text.Stdout);
        var apply = await RunAsync(host, site, noop: false, expectedExit: 2);
        ConvergenceKit.Changes(apply).ShouldBe(ConvergenceKit.Changes(plan));
        await RunAsync(host, site, noop: true, expectedExit: 0);
        await RunAsync(host, site, noop: false, expectedExit: 0);
        return ConvergenceKit.Changes(apply).Single().Value;
    }

    private static async Task<string> DpkgAsync(ThrowawayHost host, string package) =>
        (await host.RunAsync(["dpkg-query", "-W", "-f=${Status} ${Version}", package])).Stdout;

    private static string Site(string ensure, string extra = "") => $"""
        resources:
          - package: cvg-hello
            ensure: "{ensure}"
        {extra}
        """;

    [Fact]
    public async Task Package_PinInstallLatestRemovePurge_Converges()
    {
        await using var host = await StartWithRepositoryAsync();

        // Pin a version: the plan shows the exact argv, apply installs it, a new plan is empty.
        var pin = await ConvergeKitAsync(host, Site("1.0"));
        pin.ShouldBe("""{"property":"ensure","from":"absent","to":"1.0","argv":""" + Install + "\"cvg-hello=1.0\"]}");
        (await DpkgAsync(host, "cvg-hello")).ShouldBe("install ok installed 1.0");

        // installed: any version satisfies it.
        await RunAsync(host, Site("installed"), noop: true, expectedExit: 0);

        // latest: upgrade 1.0 → 2.0, keeping a locally edited conffile.
        await host.WriteFileAsync("/etc/cvg-hello.conf", "setting=local\n");
        var latest = await ConvergeKitAsync(host, Site("latest"));
        latest.ShouldBe("""{"property":"ensure","from":"1.0","to":"2.0","argv":""" + Install + "\"cvg-hello\"]}");
        (await host.RunAsync(["cat", "/usr/share/cvg-hello/VERSION", "/etc/cvg-hello.conf"])).Stdout.ShouldBe("2.0\nsetting=local\n");

        // Drift: removed behind Converge's back, --noop reports it, apply repairs it.
        (await host.RunAsync(["dpkg", "-r", "cvg-hello"])).ExitCode.ShouldBe(0);
        var drift = await RunAsync(host, Site("latest"), noop: true, expectedExit: 2);
        ConvergenceKit.Changes(drift)["package[cvg-hello]"].ShouldContain("\"from\":\"config-files\",\"to\":\"2.0\"");
        await RunAsync(host, Site("latest"), noop: false, expectedExit: 2);
        await RunAsync(host, Site("latest"), noop: true, expectedExit: 0);

        // update_cache: fresh lists are left alone; lists older than cache_max_age are updated first.
        var cached = Site("latest", "    update_cache: true\n    cache_max_age: 1h");
        await RunAsync(host, cached, noop: true, expectedExit: 0);
        (await host.RunAsync(["touch", "-d", "3 hours ago", "/var/lib/apt/lists", "/var/lib/apt/lists/partial"])).ExitCode.ShouldBe(0);
        var update = await ConvergeKitAsync(host, cached);
        update.ShouldBe("""{"property":"cache","from":"lists 3h00m old","to":"updated","argv":["apt-get","update","-q"]}""");

        // absent: removed, the conffile stays; purged: gone with its conffile.
        var remove = await ConvergeKitAsync(host, Site("absent"));
        remove.ShouldBe("""{"property":"ensure","from":"2.0","to":"absent","argv":["apt-get","remove","-y","cvg-hello"]}""");
        (await DpkgAsync(host, "cvg-hello")).ShouldStartWith("deinstall ok config-files");
        (await host.RunAsync(["test", "-e", "/etc/cvg-hello.conf"])).ExitCode.ShouldBe(0);
        var purge = await ConvergeKitAsync(host, Site("purged"));
        purge.ShouldBe("""{"property":"ensure","from":"config-files","to":"purged","argv":["apt-get","purge","-y","cvg-hello"]}""");
        (await host.RunAsync(["test", "-e", "/etc/cvg-hello.conf"])).ExitCode.ShouldBe(1);
    }

    [Fact]
    public async Task Package_Nonexistent_FailsAlone_WithAptsMessage()
    {
        await using var host = await StartWithRepositoryAsync();
        var site = """
            resources:
              - package: cvg-nonexistent
              - package: cvg-other
              - file: /etc/cvg-marker
                content: "x\n"
            """;
        var run = await RunAsync(host, site, noop: false, expectedExit: 6);
        var statuses = ConvergenceKit.Statuses(run);
        statuses["package[cvg-nonexistent]"].ShouldBe("failed");
        statuses["package[cvg-other]"].ShouldBe("changed");
        statuses["file[/etc/cvg-marker]"].ShouldBe("changed");
        var failed = JsonNode.Parse(run.Stdout)!["resources"]!.AsArray().Single(r => (string)r!["id"]! == "package[cvg-nonexistent]")!;
        var message = failed["message"]!.ToString();
        output.WriteLine(message);
        message.ShouldContain("apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold cvg-nonexistent");
        message.ShouldContain("E: Unable to locate package cvg-nonexistent");
        (await DpkgAsync(host, "cvg-other")).ShouldBe("install ok installed 1.0");
    }
}
