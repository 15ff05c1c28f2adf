using Converge.Providers.Contract;

namespace Converge.Providers.Service;

/// <summary>What <c>ensure</c> asks of a service.</summary>
public enum ServiceEnsure
{
    Running,
    Stopped,
}

/// <summary>What a refresh (<c>notify</c>/<c>subscribe</c>) does to a running service.</summary>
public enum ServiceRefresh
{
    Restart,
    Reload,
}

/// <summary>
/// The typed desired state of a <c>service</c> resource. The title is the service name. Unset
/// <see cref="Ensure"/> or <see cref="Enable"/> leave that aspect alone. A null <see cref="Provider"/>
/// means "the default service manager of the host", decided at Read time by
/// <see cref="ServiceManagers.Detect"/>.
/// </summary>
public sealed record ServiceSpec : ResourceSpec
{
    /// <summary>How long one service command (start, stop, restart, update-rc.d …) may run.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    public required string Name { get; init; }

    public ServiceEnsure? Ensure { get; init; }

    public bool? Enable { get; init; }

    public ServiceRefresh Refresh { get; init; } = ServiceRefresh.Restart;

    /// <summary><c>runit</c>, <c>sysv</c> or <c>systemd</c>; null: detected on the host.</summary>
    public string? Provider { get; init; }
}
