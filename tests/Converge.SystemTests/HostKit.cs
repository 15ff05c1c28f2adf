using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// One property change for the convergence kit inside a throwaway host. The kit judges the machine by
/// <see cref="Probe"/>, a shell command reading the real state (getent, id, stat, crontab -l, cat), never by
/// Converge's own read.
/// </summary>
public sealed record KitCase(string Name)
{
    /// <summary>Shell run before the first plan: puts the machine in the state the manifest must change.</summary>
    public string Setup { get; init; } = "";

    /// <summary>The manifest (site.yaml).</summary>
    public required string Site { get; init; }

    /// <summary>Text the first --noop must show: the exact commands (<c>$ usermod --uid 2001 deploy</c>) or diff lines.</summary>
    public IReadOnlyList<string> Shows { get; init; } = [];

    /// <summary>Shell that prints the real state of what the case manages.</summary>
    public required string Probe { get; init; }

    /// <summary>What <see cref="Probe"/> prints once the manifest is applied.</summary>
    public required string Expected { get; init; }

    /// <summary>Shell that changes the machine behind Converge's back.</summary>
    public required string Drift { get; init; }

    /// <summary>Text the --noop after <see cref="Drift"/> must show.</summary>
    public IReadOnlyList<string> DriftShows { get; init; } = [];

    /// <summary>Values that must never appear in any output (password hashes).</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>
/// Runs a <see cref="KitCase"/> through the real <c>converge</c> inside a host, with the steps of
/// <see cref="ConvergenceKit"/>: --noop shows the change and changes nothing; apply makes exactly the
/// predicted changes and the probe sees the expected state; a new plan is empty and a second apply
/// changes nothing; drift made by hand is shown by --noop and repaired by apply. Each case has its own
/// site and state directory, so cases can share one host as long as they manage different things.
/// </summary>
public static class HostKit
{
    public static async Task RunAsync(ThrowawayHost host, KitCase kit, ITestOutputHelper output)
    {
        var site = $"/root/kit/{kit.Name}";
        var state = $"/var/lib/converge-kit/{kit.Name}";
        var runs = new List<ConvergeRun>();
        async Task<ConvergeRun> Converge(bool noop, bool json, int expectedExit, string step)
        {
            var args = new List<string> { "apply", site, "--state-dir", state };
            if (json) args.Add("--json");
            if (noop) args.Add("--noop");
            var run = await host.ConvergeAsync(args);
            runs.Add(run);
            run.ExitCode.ShouldBe(expectedExit, $"{kit.Name}: {step}\n{run}");
            return run;
        }
        async Task<string> Probe()
        {
            var probe = await host.ShAsync(kit.Probe);
            return probe.Stdout;
        }
        async Task Sh(string script, string step)
        {
            if (script.Length == 0) return;
            var result = await host.ShAsync(script);
            result.ExitCode.ShouldBe(0, $"{kit.Name}: {step}\n{result}");
        }

        await Sh(kit.Setup, "setup");
        await host.WriteFileAsync(site + "/site.yaml", kit.Site);
        var before = await Probe();
        before.ShouldNotBe(kit.Expected, $"{kit.Name}: the case must need an action");

        // 1. --noop shows the exact commands and runs none of them.
        var text = await Converge(noop: true, json: false, expectedExit: 2, "1. --noop shows the change");
        output.WriteLine($"--- {kit.Name}: --noop\n{text.Stdout}");
        foreach (var shown in kit.Shows) text.Stdout.ShouldContain(shown, Case.Sensitive, $"{kit.Name}: --noop must show it");
        (await Probe()).ShouldBe(before, $"{kit.Name}: --noop must change nothing");
        var plan = await Converge(noop: true, json: true, expectedExit: 2, "1. --noop --json");
        var predicted = ConvergenceKit.Changes(plan);
        ConvergenceKit.Statuses(plan).Values.ShouldAllBe(s => s == "would-change" || s == "unchanged");

        // 2./5. apply makes exactly the predicted changes, seen on the real machine.
        var apply = await Converge(noop: false, json: true, expectedExit: 2, "2. apply makes the change");
        ConvergenceKit.Changes(apply).ShouldBe(predicted, $"{kit.Name}: --noop predicted exactly what apply did");
        (await Probe()).ShouldBe(kit.Expected, $"{kit.Name}: the real state after apply");

        // 3./4. nothing left to do.
        await Converge(noop: true, json: true, expectedExit: 0, "3. a new plan is empty");
        var again = await Converge(noop: false, json: true, expectedExit: 0, "4. apply again changes nothing");
        ConvergenceKit.Changes(again).ShouldBeEmpty();

        // 6. drift by hand is shown and repaired.
        await Sh(kit.Drift, "drift");
        (await Probe()).ShouldNotBe(kit.Expected, $"{kit.Name}: the drift must change the real state");
        var drift = await Converge(noop: true, json: false, expectedExit: 2, "6. --noop reports the drift");
        output.WriteLine($"--- {kit.Name}: --noop after drift\n{drift.Stdout}");
        foreach (var shown in kit.DriftShows) drift.Stdout.ShouldContain(shown, Case.Sensitive, $"{kit.Name}: the drift --noop must show it");
        await Converge(noop: false, json: true, expectedExit: 2, "apply repairs the drift");
        (await Probe()).ShouldBe(kit.Expected, $"{kit.Name}: the real state after the repair");
        await Converge(noop: true, json: true, expectedExit: 0, "after the repair the plan is empty");

        foreach (var secret in kit.Secrets)
        foreach (var run in runs)
        {
            run.Stdout.ShouldNotContain(secret, Case.Sensitive, $"{kit.Name}: a secret in stdout");
            run.Stderr.ShouldNotContain(secret, Case.Sensitive, $"{kit.Name}: a secret in stderr");
        }
        if (kit.Secrets.Count > 0)
        {
            var reports = await host.ShAsync($"cat {state}/reports/*.json");
            reports.ExitCode.ShouldBe(0, reports.ToString());
            foreach (var secret in kit.Secrets) reports.Stdout.ShouldNotContain(secret, Case.Sensitive, $"{kit.Name}: a secret in the JSON report");
        }
    }
}

/// <summary>One throwaway host shared by the cases of a test class; <see cref="PrepareAsync"/> runs once after it starts.</summary>
public abstract class KitHost : IAsyncLifetime
{
    private ThrowawayHost? _host;

    public ThrowawayHost Host => _host ?? throw new InvalidOperationException("the host is not started");

    protected virtual string Hostname => "kit";

    /// <summary>Packages the host starts with (<see cref="HostOptions.Packages"/>, a cached layer).</summary>
    protected virtual IReadOnlyList<string> Packages => [];

    protected virtual Task PrepareAsync(ThrowawayHost host) => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _host = ThrowawayHost.Start(new HostOptions { Hostname = Hostname, Packages = Packages });
        try
        {
            await PrepareAsync(_host);
        }
        catch
        {
            await _host.DisposeAsync();
            _host = null;
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
    }
}
