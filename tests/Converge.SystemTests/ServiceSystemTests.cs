using System.Text.RegularExpressions;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The <c>service</c> type with real runit inside a throwaway host: runit installed by DebCache (in the
/// host only), <c>runsvdir -P /etc/service</c> started in the background (killed with the host's pid 1
/// at teardown), a tiny <c>/etc/sv/cvg-demo/run</c>. The manager is not named in the manifest: the
/// default is detected (runit: /etc/service and runsvdir exist, pid 1 is not systemd).
/// </summary>
public partial class ServiceSystemTests(ITestOutputHelper output)
{
    internal static readonly ServiceManagerCase Runit = new()
    {
        Service = "cvg-demo",
        Host = new HostOptions { Hostname = "service-runit", Packages = ["runit", "sudo", "cron"] },
        PrepareAsync = async host =>
        {
            var setup = await host.ShAsync("""
                set -e
                mkdir -p /etc/sv/cvg-demo
                printf '#!/bin/sh\necho $$ > /run/cvg-demo.pid\nexec sleep 100000\n' > /etc/sv/cvg-demo/run
                chmod 755 /etc/sv/cvg-demo/run
                setsid nohup runsvdir -P /etc/service </dev/null >/dev/null 2>&1 &
                """);
            setup.ExitCode.ShouldBe(0, setup.ToString());
        },
        PidAsync = Pid,
        // Down first: without its link runsvdir stops supervising, and sv can no longer reach it.
        BreakByHand = "sv -v down cvg-demo && rm /etc/service/cvg-demo",
        Enable = ["ln", "-s", "/etc/sv/cvg-demo", "/etc/service/cvg-demo"],
        Start = ["sv", "-v", "up", "cvg-demo"],
        Stop = ["sv", "-v", "down", "cvg-demo"],
        Disable = ["rm", "/etc/service/cvg-demo"],
        Refresh = [["sv", "restart", "cvg-demo"]],
        AssertEnabledAsync = async (host, enabled) =>
        {
            var link = await host.RunAsync(["readlink", "/etc/service/cvg-demo"]);
            (link.ExitCode == 0 ? link.Stdout.Trim() : null).ShouldBe(enabled ? "/etc/sv/cvg-demo" : null);
        },
    };

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
        await using var host = await ServiceScenario.RunAsync(Runit, output);
    }

    [GeneratedRegex(@"^run: cvg-demo: \(pid (\d+)\)")]
    private static partial Regex PidPattern();
}
