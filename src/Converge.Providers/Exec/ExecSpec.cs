using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Exec;

/// <summary>
/// The typed desired state of an <c>exec</c> resource: a command to run when its guards say so
/// (<see cref="Creates"/>, <see cref="OnlyIf"/>, <see cref="Unless"/>), or only on refresh.
/// </summary>
public sealed record ExecSpec : ResourceSpec
{
    /// <summary>The default <c>timeout</c>: five minutes, for the command and each guard.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    public required CommandLine Command { get; init; }

    /// <summary>When this path exists, the command does not run.</summary>
    public string? Creates { get; init; }

    /// <summary>Run only when this check exits 0.</summary>
    public CommandLine? OnlyIf { get; init; }

    /// <summary>Do not run when this check exits 0.</summary>
    public CommandLine? Unless { get; init; }

    /// <summary>Run only when refreshed by a notifying resource, never from a plain plan.</summary>
    public bool RefreshOnly { get; init; }

    /// <summary>The working directory (absolute), for the command and its guards.</summary>
    public string? Cwd { get; init; }

    /// <summary>Variables added to the inherited environment, for the command and its guards.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Run the command and its guards as this user (name or uid).</summary>
    public Principal? User { get; init; }

    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Exit codes that mean success (default 0).</summary>
    public IReadOnlyList<int> Returns { get; init; } = [0];

    /// <summary>True when a guard decides whether to run (so the read depends on what ran before).</summary>
    public bool HasGuards => Creates is not null || OnlyIf is not null || Unless is not null;
}
