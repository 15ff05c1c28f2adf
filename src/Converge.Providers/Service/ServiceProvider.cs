using System.Text.RegularExpressions;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Service;

/// <summary>
/// The <c>service</c> type: <c>ensure</c> (running, stopped), <c>enable</c> (at boot), and a restart
/// (or reload) on refresh, through runit (<c>sv</c>, <c>/etc/service</c> → <c>/etc/sv</c>), sysv
/// (<c>/etc/init.d</c>, <c>update-rc.d</c>) or systemd (<c>systemctl</c>). Without <c>provider</c>, the
/// host's manager is detected at Read by <see cref="ServiceManagers.Detect"/>.
/// </summary>
public sealed partial class ServiceProvider : ResourceProvider<ServiceSpec, ServiceActual>
{
    /// <summary>How long Apply waits for runsvdir (which scans every 5 s) to supervise a newly linked service.</summary>
    public static readonly TimeSpan SuperviseWait = TimeSpan.FromSeconds(15);

    public static readonly IReadOnlyList<KeyValuePair<string, ServiceEnsure>> EnsureWords =
        [new("running", ServiceEnsure.Running), new("stopped", ServiceEnsure.Stopped)];

    public static readonly IReadOnlyList<KeyValuePair<string, ServiceRefresh>> RefreshWords =
        [new("restart", ServiceRefresh.Restart), new("reload", ServiceRefresh.Reload)];

    // The manager detected on this host by the last Read of a resource without provider; PlanRefresh
    // (which gets no host) uses it to show the real argv. One provider instance serves one host per run.
    private volatile string? _detected;

    /// <inheritdoc />
    public override string Type => "service";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } = ["ensure", "enable", "refresh", "provider"];

    /// <inheritdoc />
    public override ServiceSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var name = resource.Title;
        if (!IsValidName(name))
            reader.Error(DiagnosticCodes.InvalidServiceName, resource.TitleSpan.IsNone ? resource.Span : resource.TitleSpan,
                $"'{name}' is not a valid service name; use letters, digits and '_', '-', '.', '@', ':', starting with a letter or digit, without '/' (e.g. nginx, getty@tty1)");
        var ensure = reader.Choice("ensure", EnsureWords);
        var enable = reader.Bool("enable");
        var refresh = reader.Choice("refresh", RefreshWords);
        var provider = reader.String("provider");
        if (provider is not null && !ServiceManagers.All.Contains(provider))
            reader.Error(DiagnosticCodes.UnknownServiceProvider, reader.SpanOf("provider"),
                $"unknown service provider '{provider}'; this build has {string.Join(", ", ServiceManagers.All)}{Suggest.DidYouMean(provider, ServiceManagers.All)}");
        if (reader.HasErrors) return null;
        return new ServiceSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Name = name,
            Ensure = ensure,
            Enable = enable,
            Refresh = refresh ?? ServiceRefresh.Restart,
            Provider = provider,
        };
    }

    /// <summary>Letters, digits, <c>_ - . @ :</c>; no slash (the name becomes a path under /etc/sv and /etc/init.d).</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name) && name is not ("." or "..");

    /// <inheritdoc />
    /// <remarks>
    /// <c>package[NAME]</c>, and what defines the service when the catalog manages it: runit's
    /// <c>directory[/etc/sv/NAME]</c> and <c>file[/etc/sv/NAME/run]</c>, sysv's <c>file[/etc/init.d/NAME]</c>,
    /// systemd's <c>file[/etc/systemd/system/NAME.service]</c>. Each applies only when that resource is in the catalog.
    /// </remarks>
    public override IEnumerable<AutoRequire> AutoRequires(ServiceSpec spec)
    {
        yield return AutoRequire.Of(new ResourceId("package", spec.Name));
        if (spec.Provider is null or ServiceManagers.Runit)
        {
            yield return AutoRequire.Of(new ResourceId("directory", ServiceManagers.RunitDefinition(spec.Name)));
            yield return AutoRequire.Of(new ResourceId("file", ServiceManagers.RunitDefinition(spec.Name) + "/run"));
        }
        if (spec.Provider is null or ServiceManagers.Sysv)
            yield return AutoRequire.Of(new ResourceId("file", ServiceManagers.InitScript(spec.Name)));
        if (spec.Provider is null or ServiceManagers.Systemd)
            yield return AutoRequire.Of(new ResourceId("file", ServiceManagers.SystemdUnitFile(spec.Name)));
    }

    /// <inheritdoc />
    /// <remarks>
    /// runit: enabled = <c>/etc/service/NAME</c> exists; running = <c>sv status NAME</c> says <c>run:</c>
    /// (only asked when enabled). sysv: <c>/etc/init.d/NAME status</c> exits 0; enabled = an S link in
    /// rc2–5.d. systemd: one <c>systemctl show</c> for ActiveState, UnitFileState and NeedDaemonReload (unit
    /// files changed on disk since systemd loaded them). A runit service that should run but is not (and
    /// will not be) linked fails here, before anything changes.
    /// </remarks>
    public override async ValueTask<ServiceActual> ReadAsync(ServiceSpec spec, ProviderContext context, CancellationToken ct)
    {
        var system = context.System;
        var provider = ProviderFor(spec, system);
        ServiceActual actual;
        switch (provider)
        {
            case ServiceManagers.Runit:
            {
                var enabled = system.Stat(ServiceManagers.RunitLink(spec.Name)) is not null;
                var running = false;
                if (enabled)
                {
                    var status = await RunAsync(system, ServiceManagers.StatusArgv(provider, spec.Name), ct).ConfigureAwait(false);
                    running = status.ExitCode == 0 && ServiceManagers.RunitStatusIsRunning(status.StandardOutput);
                }
                actual = new ServiceActual(provider, running, enabled);
                var willBeEnabled = spec.Enable ?? enabled;
                if (spec.Ensure == ServiceEnsure.Running && !willBeEnabled)
                    throw ProviderException.RunitServiceNotEnabled(spec.Name, ServiceManagers.RunitLink(spec.Name));
                break;
            }
            case ServiceManagers.Sysv:
            {
                var running = false;
                if (system.Stat(ServiceManagers.InitScript(spec.Name)) is not null)
                {
                    var status = await RunAsync(system, ServiceManagers.StatusArgv(provider, spec.Name), ct).ConfigureAwait(false);
                    running = status.ExitCode == 0;
                }
                var (enabled, links, stray) = ServiceManagers.SysvLinks(d => system.Stat(d) is null ? [] : system.ListDirectory(d), spec.Name);
                actual = new ServiceActual(provider, running, enabled, links, stray);
                break;
            }
            default:
            {
                var show = await RunAsync(system, ServiceManagers.SystemdShowArgv(spec.Name), ct).ConfigureAwait(false);
                var (running, state, needsReload) = ServiceManagers.ParseSystemdShow(show.StandardOutput);
                if (spec.Enable == false && ServiceManagers.SystemdStateCannotBeDisabled(state))
                    throw ProviderException.SystemdUnitCannotBeDisabled(spec.Name, state);
                actual = new ServiceActual(provider, running, ServiceManagers.SystemdStateIsEnabled(state), NeedsDaemonReload: needsReload);
                break;
            }
        }
        return actual;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Changes in the order they are applied: to start, <c>enable</c> then <c>ensure</c> (runit
    /// must supervise a service before <c>sv up</c> can start it); to stop, <c>ensure</c> then <c>enable</c>.
    /// systemd with unit files changed on disk: <c>systemctl daemon-reload</c> first (as a change of the first
    /// property), so the start or enable uses the files as they are now, not as systemd loaded them.
    /// Nothing else to change means no reload: a running service keeps its definition until it is
    /// restarted, and a refresh reloads anyway (<see cref="ServiceManagers.RefreshArgvs"/>).
    /// </remarks>
    public override IReadOnlyList<Change> Diff(ServiceSpec spec, ServiceActual actual)
    {
        Change? ensure = null, enable = null, removeStray = null;
        if (spec.Ensure is { } wanted && (wanted == ServiceEnsure.Running) != actual.Running)
            ensure = wanted == ServiceEnsure.Running
                ? new Change("ensure", "stopped", "running", ServiceManagers.StartArgv(actual.Provider, spec.Name))
                : new Change("ensure", "running", "stopped", ServiceManagers.StopArgv(actual.Provider, spec.Name));
        if (spec.Enable is { } enabled && enabled != actual.Enabled)
            enable = enabled
                ? new Change("enable", "false", "true", ServiceManagers.EnableArgv(actual.Provider, spec.Name, actual.HasRcLinks))
                : new Change("enable", "true", "false", ServiceManagers.DisableArgv(actual.Provider, spec.Name));
        // sysv with only stray links (rc0/1/6.d): update-rc.d enable refuses and defaults does nothing, so remove them first.
        if (enable is { To: "true" } && actual is { Provider: ServiceManagers.Sysv, HasRcLinks: false, HasStrayRcLinks: true })
            removeStray = new Change("enable", "false", "true", ServiceManagers.SysvRemoveLinksArgv(spec.Name));
        var changes = new List<Change>(3);
        if (spec.Ensure == ServiceEnsure.Stopped)
        {
            if (ensure is not null) changes.Add(ensure);
            if (removeStray is not null) changes.Add(removeStray);
            if (enable is not null) changes.Add(enable);
        }
        else
        {
            if (removeStray is not null) changes.Add(removeStray);
            if (enable is not null) changes.Add(enable);
            if (ensure is not null) changes.Add(ensure);
        }
        if (changes.Count > 0 && actual is { Provider: ServiceManagers.Systemd, NeedsDaemonReload: true })
            changes.Insert(0, changes[0] with { Argv = ServiceManagers.SystemdDaemonReloadArgv });
        return changes;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Runs each change's argv in order. Enabling a runit service first checks that <c>/etc/sv/NAME</c>
    /// exists, and, when a start follows, waits (up to <see cref="SuperviseWait"/>) for runsvdir to
    /// supervise it.
    /// </remarks>
    public override async ValueTask ApplyAsync(ServiceSpec spec, ServiceActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        var system = context.System;
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            if (change is not { Property: "ensure" or "enable", Argv: { } argv }) throw ProviderException.UnexpectedChange(Type, change.Property);
            var runitEnable = actual.Provider == ServiceManagers.Runit && change is { Property: "enable", To: "true" };
            if (runitEnable && system.Stat(ServiceManagers.RunitDefinition(spec.Name)) is null)
                throw ProviderException.RunitDefinitionMissing(ServiceManagers.RunitDefinition(spec.Name));
            await RunCheckedAsync(system, argv, ct).ConfigureAwait(false);
            if (runitEnable && i + 1 < changes.Count) await WaitSupervisedAsync(system, spec.Name, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override bool IsRefreshable => true;

    /// <inheritdoc />
    /// <remarks>
    /// The argv of the resource's manager, one change per command (systemd: <c>daemon-reload</c>, then the
    /// restart or reload); for a detected manager, the one detected by this run's Read.
    /// </remarks>
    public override IReadOnlyList<Change> PlanRefresh(ServiceSpec spec)
    {
        var verb = spec.Refresh == ServiceRefresh.Reload ? "reloaded" : "restarted";
        var provider = spec.Provider ?? _detected;
        return provider is null
            ? [new Change("refresh", null, verb)]
            : ServiceManagers.RefreshArgvs(provider, spec.Name, spec.Refresh).Select(argv => new Change("refresh", null, verb, argv)).ToList();
    }

    /// <inheritdoc />
    /// <remarks>
    /// A start runs the new configuration and a stopped service needs none, so an <c>ensure</c> change covers
    /// the refresh; an <c>enable</c> change alone does not: the running service is still restarted.
    /// </remarks>
    public override bool ChangesCoverRefresh(ServiceSpec spec, IReadOnlyList<Change> changes) =>
        changes.Any(c => c.Property == "ensure");

    /// <inheritdoc />
    /// <remarks>
    /// Restarts (or reloads) a service that is running, after <c>systemctl daemon-reload</c> on systemd
    /// (always, not only when systemd reports changed files: --noop must show the exact commands before
    /// the notifying file is written); a stopped service stays stopped (a refresh never starts one).
    /// </remarks>
    public override async ValueTask RefreshAsync(ServiceSpec spec, ProviderContext context, CancellationToken ct)
    {
        var actual = await ReadAsync(spec with { Ensure = null }, context, ct).ConfigureAwait(false);
        if (!actual.Running) return;
        foreach (var argv in ServiceManagers.RefreshArgvs(actual.Provider, spec.Name, spec.Refresh))
            await RunCheckedAsync(context.System, argv, ct).ConfigureAwait(false);
    }

    private string ProviderFor(ServiceSpec spec, ISystem system)
    {
        if (spec.Provider is { } chosen) return chosen;
        return _detected = ServiceManagers.Detect(system);
    }

    private static async Task WaitSupervisedAsync(ISystem system, string name, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            var status = await RunAsync(system, ServiceManagers.StatusArgv(ServiceManagers.Runit, name), ct).ConfigureAwait(false);
            if (status.ExitCode == 0) return;
            if (DateTime.UtcNow - started > SuperviseWait) throw ProviderException.RunitNotSupervised(name, SuperviseWait);
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    private static async Task RunCheckedAsync(ISystem system, IReadOnlyList<string> argv, CancellationToken ct)
    {
        var result = await RunAsync(system, argv, ct).ConfigureAwait(false);
        if (result.TimedOut || result.ExitCode != 0) throw ProviderException.ServiceCommandFailed(argv, result);
    }

    private static async Task<ProcessResult> RunAsync(ISystem system, IReadOnlyList<string> argv, CancellationToken ct)
    {
        try
        {
            return await system.RunAsync(new ProcessSpec(argv) { Timeout = ServiceSpec.CommandTimeout }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
            throw ProviderException.CommandNotStarted(ShellQuote.Join(argv), e);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$")]
    private static partial Regex NamePattern();
}
