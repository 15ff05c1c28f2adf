using Converge.Testing;
using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>Runs `converge apply` on a manifest inside a host and checks the exit code, for the service tests.</summary>
internal static class HostApply
{
    public static async Task<ConvergeRun> ApplyAsync(this ThrowawayHost host, string site, bool noop, int expectedExit, bool json = true)
    {
        var args = new List<string> { "apply", site };
        if (json) args.Add("--json");
        if (noop) args.Add("--noop");
        var run = await host.ConvergeAsync(args);
        run.ExitCode.ShouldBe(expectedExit, run.ToString());
        return run;
    }
}
