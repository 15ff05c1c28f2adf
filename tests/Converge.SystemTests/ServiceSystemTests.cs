using System.Text.RegularExpressions;
using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The <c>service</c> type with real runit inside a throwaway host: runit from a package layer (in the
/// host only), <c>runsvdir -P /etc/service</c> started in the background (killed with the host's pid 1
/// at teardown), a tiny <c>/etc/sv/cvg-demo/run</c>. The manager is not named in the manifest: the
/// default is detected (runit: /etc/service and runsvdir exist, pid 1 is not systemd).
/// </summary>
public partial class ServiceSystemTests(ITestOutputHelper output)
{
    private const string Site = "/root/site";

    private static string Manifest(string content) => $$"""
        resources:
          - file: /etc/cvg-demo.conf
            content: "{{content}}\n"
            notify: service[cvg-demo]
          - service: cvg-demo
            ensure: running
            enable: true
        """;

    private static Task<ConvergeRun> Run(ThrowawayHost host, bool noop, int expectedExit, bool json = true)
        => host.ApplyAsync(Site, noop, expectedExit, json);

    /// <summary>The pid runit reports for cvg-demo, or null when it is not running.</summary>
    private static async Task<int?> Pid(ThrowawayHost host)
    {
        var status = await host.RunAsync(["sv", "status", "cvg-demo"]);
        var match = PidPattern().Match(status.Stdout);
        return match.Success ? int.Parse(match.Groups[1].Value) : null;
    }

    [Fact]
    public async Task Runit_EnsureEnableRefreshChainAndDrift_Converge()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "service-runit", Packages = ["runit", "sudo", "cron"] });
        var setup = await host.ShAsync("""
            set -e
            mkdir -p /etc/sv/cvg-demo
            printf '#!/bin/sh\necho $$ > /run/cvg-demo.pid\nexec sleep 100000\n' > /etc/sv/cvg-demo/run
            chmod 755 /etc/sv/cvg-demo/run
            setsid nohup runsvdir -P /etc/service </dev/null >/dev/null 2>&1 &
            """);
        setup.ExitCode.ShouldBe(0, setup.ToString());
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("v1"));

        // 1. --noop: the link and sv up, exact argv; nothing runs.
        var text = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(text.Stdout);
        text.Stdout.ShouldContain("ln -s /etc/sv/cvg-demo /etc/service/cvg-demo");
        text.Stdout.ShouldContain("sv -v up cvg-demo");
        (await host.RunAsync(["test", "-e", "/etc/service/cvg-demo"])).ExitCode.ShouldNotBe(0, "--noop changes nothing");
        var plan = ConvergenceKit.Changes(await Run(host, noop: true, expectedExit: 2));

        // 2. apply does exactly that; the service starts once (the change satisfies the file's refresh).
        var apply = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        apply.ShouldBe(plan);
        apply["service[cvg-demo]"].ShouldBe(
            """{"property":"enable","from":"false","to":"true","argv":["ln","-s","/etc/sv/cvg-demo","/etc/service/cvg-demo"]}""" + "\n" +
            """{"property":"ensure","from":"stopped","to":"running","argv":["sv","-v","up","cvg-demo"]}""");
        var first = (await Pid(host)).ShouldNotBeNull();
        (await host.RunAsync(["readlink", "/etc/service/cvg-demo"])).Stdout.Trim().ShouldBe("/etc/sv/cvg-demo");

        // 3. Converged: an empty plan, and the pid stays.
        await Run(host, noop: true, expectedExit: 0);
        await Run(host, noop: false, expectedExit: 0);
        (await Pid(host)).ShouldBe(first);

        // 4. The file changes: --noop shows the refresh with its argv and changes nothing...
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("v2"));
        var refreshText = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(refreshText.Stdout);
        refreshText.Stdout.ShouldContain("would refresh (notified by file[/etc/cvg-demo.conf])");
        refreshText.Stdout.ShouldContain("$ sv restart cvg-demo");
        (await Pid(host)).ShouldBe(first);
        (await host.RunAsync(["cat", "/etc/cvg-demo.conf"])).Stdout.ShouldBe("v1\n");

        // ...and apply restarts the service: a new pid.
        var refresh = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        refresh["service[cvg-demo]"].ShouldBe(" +refresh");
        var second = (await Pid(host)).ShouldNotBeNull();
        second.ShouldNotBe(first);
        (await host.RunAsync(["cat", "/run/cvg-demo.pid"])).Stdout.Trim().ShouldBe(second.ToString());

        // 5. The file does not change: no refresh, the pid stays.
        await Run(host, noop: false, expectedExit: 0);
        (await Pid(host)).ShouldBe(second);

        // 6. Drift: stopped by hand; --noop reports it, apply repairs it, then nothing is left to do.
        (await host.RunAsync(["sv", "-v", "down", "cvg-demo"])).ExitCode.ShouldBe(0);
        (await Pid(host)).ShouldBeNull();
        var drift = ConvergenceKit.Changes(await Run(host, noop: true, expectedExit: 2));
        drift["service[cvg-demo]"].ShouldBe("""{"property":"ensure","from":"stopped","to":"running","argv":["sv","-v","up","cvg-demo"]}""");
        await Run(host, noop: false, expectedExit: 2);
        (await Pid(host)).ShouldNotBeNull();
        await Run(host, noop: true, expectedExit: 0);

        // 7. Stopped and disabled: sv down, then the link is removed.
        await host.WriteFileAsync(Site + "/site.yaml", """
            resources:
              - service: cvg-demo
                ensure: stopped
                enable: false
            """);
        var stop = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        stop["service[cvg-demo]"].ShouldBe(
            """{"property":"ensure","from":"running","to":"stopped","argv":["sv","-v","down","cvg-demo"]}""" + "\n" +
            """{"property":"enable","from":"true","to":"false","argv":["rm","/etc/service/cvg-demo"]}""");
        (await host.RunAsync(["test", "-e", "/etc/service/cvg-demo"])).ExitCode.ShouldNotBe(0);
        await Run(host, noop: true, expectedExit: 0);
    }

    [GeneratedRegex(@"^run: cvg-demo: \(pid (\d+)\)")]
    private static partial Regex PidPattern();
}
