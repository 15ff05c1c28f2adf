using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The <c>service</c> type with real systemd: a throwaway host with systemd 252 as pid 1
/// (<see cref="HostInit.Systemd"/>). The manifest writes the service itself: a shell loop in
/// <c>/usr/local/bin/cvg-unit</c> and its unit file <c>/etc/systemd/system/cvg-unit.service</c>. The manager
/// is not named: pid 1 is systemd, so systemd is detected.
/// </summary>
public sealed class SystemdServiceSystemTests(ITestOutputHelper output)
{
    private const string Site = ServiceScenario.Site;
    private const string UnitPath = "/etc/systemd/system/cvg-unit.service";

    // The loop records its start (pid and greeting) and every SIGHUP; `sleep & wait` so a signal is handled at once.
    private const string Program = """
        #!/bin/sh
        echo "$$ ${CVG_GREETING:-none}" >> /run/cvg-unit.started
        trap 'echo "$$" >> /run/cvg-unit.reloaded' HUP
        while :; do sleep 1 & wait $!; done
        """;

    private static string Unit(string greeting) => $"""
        [Unit]
        Description=converge test service
        [Service]
        Environment=CVG_GREETING={greeting}
        ExecStart=/usr/local/bin/cvg-unit
        ExecReload=/bin/kill -HUP $MAINPID
        [Install]
        WantedBy=multi-user.target
        """;

    /// <summary>The program and the unit file as resources (list items of <c>resources:</c>); the unit file notifies the service.</summary>
    private static string Defining(string greeting = "hello") =>
        "  - file: /usr/local/bin/cvg-unit\n" +
        "    mode: \"0755\"\n" +
        "    content: |\n" + Indent(Program, 6) + "\n" +
        $"  - file: {UnitPath}\n" +
        "    content: |\n" + Indent(Unit(greeting), 6) + "\n" +
        "    require: file[/usr/local/bin/cvg-unit]\n" +
        "    notify: service[cvg-unit]";

    private static string Indent(string text, int spaces) =>
        string.Join('\n', text.Split('\n').Select(l => l.Length == 0 ? l : new string(' ', spaces) + l));

    internal static readonly ServiceManagerCase Systemd = new()
    {
        Service = "cvg-unit",
        Host = new HostOptions { Hostname = "service-systemd", Init = HostInit.Systemd },
        PrepareAsync = host =>
        {
            host.SystemState.ShouldBe("running");
            return Task.CompletedTask;
        },
        DefiningResources = Defining(),
        PidAsync = Pid,
        BreakByHand = "systemctl stop cvg-unit && systemctl disable cvg-unit",
        Enable = ["systemctl", "enable", "cvg-unit"],
        Start = ["systemctl", "start", "cvg-unit"],
        Stop = ["systemctl", "stop", "cvg-unit"],
        Disable = ["systemctl", "disable", "cvg-unit"],
        Refresh = [["systemctl", "daemon-reload"], ["systemctl", "restart", "cvg-unit"]],
        AssertEnabledAsync = async (host, enabled) =>
        {
            // is-enabled: exit 0 and "enabled"; "disabled" (or, before the unit file exists, an error) exits 1.
            var state = await host.RunAsync(["systemctl", "is-enabled", "cvg-unit"]);
            (state.ExitCode == 0 ? state.Stdout.Trim() : null).ShouldBe(enabled ? "enabled" : null, state.ToString());
            var wants = await host.RunAsync(["readlink", "/etc/systemd/system/multi-user.target.wants/cvg-unit.service"]);
            (wants.ExitCode == 0 ? wants.Stdout.Trim() : null).ShouldBe(enabled ? UnitPath : null);
        },
    };

    /// <summary>The service's MainPID as systemd reports it, or null when it does not run.</summary>
    private static async Task<int?> Pid(ThrowawayHost host)
    {
        var show = await host.RunAsync(["systemctl", "show", "--property=MainPID", "--value", "cvg-unit"]);
        show.ExitCode.ShouldBe(0, show.ToString());
        var pid = int.Parse(show.Stdout.Trim());
        return pid == 0 ? null : pid;
    }

    private static Task<ConvergeRun> Run(ThrowawayHost host, bool noop, int expectedExit, bool json = true)
        => host.ApplyAsync(Site, noop, expectedExit, json);

    [Fact]
    public async Task Systemd_Detected_EnsureEnableRefreshChainAndDrift_Converge()
    {
        await using var host = await ServiceScenario.RunAsync(Systemd, output);
        (await host.RunAsync(["systemctl", "is-active", "cvg-unit"])).Stdout.Trim().ShouldBe("inactive");
    }

    [Fact]
    public async Task Systemd_UnitFileChanges_TakeEffect_AndReloadKeepsThePid()
    {
        await using var host = ThrowawayHost.Start(Systemd.Host with { Hostname = "service-systemd-unit" });
        string Manifest(string greeting, string content, string refresh = "restart") => $"""
            resources:
            {Defining(greeting)}
              - file: /etc/cvg-unit.conf
                content: "{content}\n"
                notify: service[cvg-unit]
              - service: cvg-unit
                ensure: running
                enable: true
                refresh: {refresh}
            """;
        // Type=simple: systemctl returns once the program is forked, maybe before its first line ran.
        async Task<string> Started(int pid) =>
            (await host.ShAsync($"for i in $(seq 50); do grep -q '^{pid} ' /run/cvg-unit.started && break; sleep 0.1; done; cat /run/cvg-unit.started")).Stdout;

        await host.WriteFileAsync(Site + "/site.yaml", Manifest("hello", "v1"));
        await Run(host, noop: false, expectedExit: 2);
        var first = (await Pid(host)).ShouldNotBeNull();
        (await Started(first)).ShouldBe($"{first} hello\n");

        // The unit file changes (a new Environment=): --noop shows the file's diff and the refresh it sends...
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("bonjour", "v1"));
        var text = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(text.Stdout);
        text.Stdout.ShouldContain("+Environment=CVG_GREETING=bonjour");
        text.Stdout.ShouldContain($"would refresh (notified by file[{UnitPath}])");
        text.Stdout.ShouldContain("$ systemctl daemon-reload");
        text.Stdout.ShouldContain("$ systemctl restart cvg-unit");
        var plan = ConvergenceKit.Changes(await Run(host, noop: true, expectedExit: 2));

        // ...and apply reloads systemd's view of the unit, then restarts the service: the new environment is in effect.
        var apply = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        apply.ShouldBe(plan);
        apply["service[cvg-unit]"].ShouldBe(" +refresh");
        var second = (await Pid(host)).ShouldNotBeNull();
        second.ShouldNotBe(first);
        (await Started(second)).ShouldBe($"{first} hello\n{second} bonjour\n");
        (await host.RunAsync(["systemctl", "show", "--property=NeedDaemonReload", "--value", "cvg-unit"])).Stdout.Trim().ShouldBe("no");
        await Run(host, noop: true, expectedExit: 0);

        // refresh: reload — the unit has ExecReload: the config file changes, the service gets SIGHUP, the pid stays.
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("bonjour", "v2", refresh: "reload"));
        var reloadText = await Run(host, noop: true, expectedExit: 2, json: false);
        reloadText.Stdout.ShouldContain("$ systemctl reload cvg-unit");
        (await host.RunAsync(["test", "-e", "/run/cvg-unit.reloaded"])).ExitCode.ShouldNotBe(0, "--noop reloads nothing");
        var reload = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        reload["service[cvg-unit]"].ShouldBe(" +refresh");
        (await host.ShAsync("for i in $(seq 50); do [ -s /run/cvg-unit.reloaded ] && break; sleep 0.1; done; cat /run/cvg-unit.reloaded")).Stdout.ShouldBe($"{second}\n");
        (await Pid(host)).ShouldBe(second);
        (await Started(second)).ShouldBe($"{first} hello\n{second} bonjour\n", "a reload starts nothing");

        // Disabled by hand while it runs, and the config changes: the enable does not restart it, so the
        // refresh still follows the enable (else the service would run the old config, enabled).
        (await host.RunAsync(["systemctl", "disable", "cvg-unit"])).ExitCode.ShouldBe(0);
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("bonjour", "v3"));
        var both = await Run(host, noop: true, expectedExit: 2, json: false);
        output.WriteLine(both.Stdout);
        both.Stdout.ShouldContain("$ systemctl enable cvg-unit");
        both.Stdout.ShouldContain("$ systemctl restart cvg-unit");
        var enabledAndRestarted = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        enabledAndRestarted["service[cvg-unit]"].ShouldBe(ServiceScenario.Change("enable", "false", "true", Systemd.Enable) + " +refresh");
        var restarted = (await Pid(host)).ShouldNotBeNull();
        restarted.ShouldNotBe(second);
        await Systemd.AssertEnabledAsync(host, true);

        // The unit file edited by hand (and put into effect): a converge run rewrites it, and the restart puts ours back into effect.
        (await host.ShAsync($"sed -i s/bonjour/hallo/ {UnitPath} && systemctl daemon-reload && systemctl restart cvg-unit")).ExitCode.ShouldBe(0);
        var third = (await Pid(host)).ShouldNotBeNull();
        (await Started(third)).ShouldEndWith($"\n{third} hallo\n");
        var repair = ConvergenceKit.Changes(await Run(host, noop: false, expectedExit: 2));
        repair.Keys.ShouldBe([$"file[{UnitPath}]", "service[cvg-unit]"]);
        repair["service[cvg-unit]"].ShouldBe(" +refresh");
        var fourth = (await Pid(host)).ShouldNotBeNull();
        fourth.ShouldNotBe(third);
        (await Started(fourth)).ShouldEndWith($"\n{fourth} bonjour\n");
        await Run(host, noop: true, expectedExit: 0);
    }

    [Fact]
    public async Task Systemd_StaticUnit_CountsAsEnabled_AndEnableFalseIsAClearError()
    {
        await using var host = ThrowawayHost.Start(Systemd.Host with { Hostname = "service-systemd-static" });
        // No [Install] section: `systemctl is-enabled` says "static", and `systemctl enable` would change nothing.
        string Manifest(bool enable) => $"""
            resources:
              - file: /usr/local/bin/cvg-unit
                mode: "0755"
                content: |
            {Indent(Program, 6)}
              - file: /etc/systemd/system/cvg-static.service
                content: |
                  [Unit]
                  Description=converge static unit
                  [Service]
                  ExecStart=/usr/local/bin/cvg-unit
              - service: cvg-static
                ensure: running
                enable: {(enable ? "true" : "false")}
            """;
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(enable: true));
        await Run(host, noop: false, expectedExit: 2);
        (await host.RunAsync(["systemctl", "is-enabled", "cvg-static"])).Stdout.Trim().ShouldBe("static");
        (await host.RunAsync(["systemctl", "is-active", "cvg-static"])).Stdout.Trim().ShouldBe("active");
        await Run(host, noop: true, expectedExit: 0); // idempotent: no `systemctl enable` on every run

        await host.WriteFileAsync(Site + "/site.yaml", Manifest(enable: false));
        var refused = await Run(host, noop: true, expectedExit: 4, json: false);
        refused.Stdout.ShouldContain("systemd unit cvg-static is static");
        (await host.RunAsync(["systemctl", "is-active", "cvg-static"])).Stdout.Trim().ShouldBe("active");
    }
}
