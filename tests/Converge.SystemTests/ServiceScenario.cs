using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// One service manager's part in <see cref="ServiceScenario"/>: the host it needs, how the test service is
/// defined, how its pid is read, how it is broken by hand, and the exact argv Converge must run.
/// </summary>
internal sealed record ServiceManagerCase
{
    /// <summary>The service's name; its config file is <c>/etc/NAME.conf</c>.</summary>
    public required string Service { get; init; }

    public required HostOptions Host { get; init; }

    /// <summary>Prepares the host before the first run (install runit, write an init script …); may be empty.</summary>
    public required Func<ThrowawayHost, Task> PrepareAsync { get; init; }

    /// <summary>Resources of the manifest before the config file and the service (systemd: the unit file); may be empty.</summary>
    public string DefiningResources { get; init; } = "";

    /// <summary>The pid of the running service, or null when it is not running.</summary>
    public required Func<ThrowawayHost, Task<int?>> PidAsync { get; init; }

    /// <summary>A shell command that stops and disables the service behind Converge's back.</summary>
    public required string BreakByHand { get; init; }

    public required string[] Enable { get; init; }

    /// <summary>How a service disabled by <see cref="BreakByHand"/> is enabled again (sysv: <c>enable</c>, not <c>defaults</c>).</summary>
    public string[]? ReEnable { get; init; }

    public required string[] Start { get; init; }
    public required string[] Stop { get; init; }
    public required string[] Disable { get; init; }

    /// <summary>What a refresh runs, in order.</summary>
    public required string[][] Refresh { get; init; }

    /// <summary>Checks that the manager has the service enabled at boot (or not), in its own terms.</summary>
    public required Func<ThrowawayHost, bool, Task> AssertEnabledAsync { get; init; }
}

/// <summary>
/// The service scenario every manager passes, against the real manager in a throwaway host: a config file
/// that <c>notify</c>s a service with <c>ensure: running</c>, <c>enable: true</c>. --noop shows the exact
/// argv and runs nothing; apply runs exactly that; a second run changes nothing; a changed config file
/// restarts the service (new pid), an unchanged one does not; drift made by hand (stopped and disabled) is
/// shown and repaired; finally <c>ensure: stopped</c>, <c>enable: false</c>.
/// </summary>
internal static class ServiceScenario
{
    public const string Site = "/root/site";

    public static string Manifest(ServiceManagerCase m, string content) => $$"""
        resources:
        {{m.DefiningResources}}
          - file: /etc/{{m.Service}}.conf
            content: "{{content}}\n"
            notify: service[{{m.Service}}]
          - service: {{m.Service}}
            ensure: running
            enable: true
        """;

    /// <summary>A change as the JSON report shows it (what <see cref="ConvergenceKit.Changes"/> returns, one per line).</summary>
    public static string Change(string property, string from, string to, string[] argv) =>
        $$"""{"property":"{{property}}","from":"{{from}}","to":"{{to}}","argv":[{{string.Join(",", argv.Select(a => $"\"{a}\""))}}]}""";

    public static Task<ConvergeRun> Run(ThrowawayHost host, bool noop, int expectedExit, bool json = true)
        => host.ApplyAsync(Site, noop, expectedExit, json);

    /// <summary>Runs the scenario and returns the host (service stopped and disabled) for the manager's own further steps.</summary>
    public static async Task<ThrowawayHost> RunAsync(ServiceManagerCase m, ITestOutputHelper output)
    {
        var host = ThrowawayHost.Start(m.Host);
        try
        {
            await RunAsync(host, m, output);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private static async Task RunAsync(ThrowawayHost host, ServiceManagerCase m, ITestOutputHelper output)
    {
        var id = $"service[{m.Service}]";
        var conf = $"/etc/{m.Service}.conf";
        await m.PrepareAsync(host);
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(m, "v1"));

        // 1. --noop: enable and start, exact argv; nothing runs.
        var text = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(text.Stdout);
        text.Stdout.ShouldContain("$ " + string.Join(' ', m.Enable));
        text.Stdout.ShouldContain("$ " + string.Join(' ', m.Start));
        (await m.PidAsync(host)).ShouldBeNull("--noop starts nothing");
        await m.AssertEnabledAsync(host, false);
        var plan = ConvergenceKit.Changes(await Run(host, noop: true, expectedExit: 2));

        // 2. apply does exactly that; the service starts once (the start satisfies the file's refresh).
        var apply = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        apply.ShouldBe(plan);
        apply[id].ShouldBe(Change("enable", "false", "true", m.Enable) + "\n" + Change("ensure", "stopped", "running", m.Start));
        var first = (await m.PidAsync(host)).ShouldNotBeNull();
        await m.AssertEnabledAsync(host, true);

        // 3. Converged: an empty plan, nothing to apply, and the pid stays.
        await Run(host, noop: true, expectedExit: 0);
        await Run(host, noop: false, expectedExit: 0);
        (await m.PidAsync(host)).ShouldBe(first);

        // 4. The file changes: --noop shows the refresh with its argv and changes nothing...
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(m, "v2"));
        var refreshText = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(refreshText.Stdout);
        refreshText.Stdout.ShouldContain($"would refresh (notified by file[{conf}])");
        foreach (var argv in m.Refresh) refreshText.Stdout.ShouldContain("$ " + string.Join(' ', argv));
        (await m.PidAsync(host)).ShouldBe(first);
        (await host.RunAsync(["cat", conf])).Stdout.ShouldBe("v1\n");

        // ...and apply restarts the service: a new pid, the old process gone.
        var refresh = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        refresh[id].ShouldBe(" +refresh");
        var second = (await m.PidAsync(host)).ShouldNotBeNull();
        second.ShouldNotBe(first);
        (await host.ShAsync($"kill -0 {first}")).ExitCode.ShouldNotBe(0, "the old process is gone");

        // 5. The file does not change: no refresh, the pid stays.
        await Run(host, noop: false, expectedExit: 0);
        (await m.PidAsync(host)).ShouldBe(second);

        // 6. Drift: stopped and disabled by hand; --noop reports both, apply repairs them, then nothing is left.
        var broken = await host.ShAsync(m.BreakByHand);
        broken.ExitCode.ShouldBe(0, broken.ToString());
        (await m.PidAsync(host)).ShouldBeNull();
        await m.AssertEnabledAsync(host, false);
        var drift = ConvergenceKit.Changes(await Run(host, noop: true, expectedExit: 2));
        drift[id].ShouldBe(Change("enable", "false", "true", m.ReEnable ?? m.Enable) + "\n" + Change("ensure", "stopped", "running", m.Start));
        (await m.PidAsync(host)).ShouldBeNull("--noop starts nothing");
        ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2)).ShouldBe(drift);
        (await m.PidAsync(host)).ShouldNotBeNull();
        await m.AssertEnabledAsync(host, true);
        await Run(host, noop: true, expectedExit: 0);

        // 7. Stopped and disabled: stop first, then disable.
        await host.WriteFileAsync(Site + "/site.yaml", $"""
            resources:
              - service: {m.Service}
                ensure: stopped
                enable: false
            """);
        var stop = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        stop[id].ShouldBe(Change("ensure", "running", "stopped", m.Stop) + "\n" + Change("enable", "true", "false", m.Disable));
        (await m.PidAsync(host)).ShouldBeNull();
        await m.AssertEnabledAsync(host, false);
        await Run(host, noop: true, expectedExit: 0);
        await Run(host, noop: false, expectedExit: 0);
    }
}
