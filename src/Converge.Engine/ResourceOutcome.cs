using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Engine;

public enum OutcomeStatus
{
    /// <summary>Actual state already matched.</summary>
    Unchanged,
    /// <summary>Changes (or a refresh) were applied.</summary>
    Changed,
    /// <summary>Changes are pending: <c>--noop</c>, or the resource says <c>noop: true</c>.</summary>
    WouldChange,
    /// <summary>
    /// <c>--noop</c> only: the resource's actual state depends on a pending upstream change, so what it
    /// would do cannot be known without making that change. Never guessed.
    /// </summary>
    Unknown,
    Failed,
    /// <summary>Not run: a dependency failed or was skipped, or the run was interrupted.</summary>
    Skipped,
}

/// <summary>
/// What happened to one resource in a run: the single record every view (console, JSON report, logs,
/// exit code) is derived from. Changes are already redacted; messages are already scrubbed of secrets.
/// </summary>
public sealed record ResourceOutcome(
    ResourceId Id,
    OutcomeStatus Status,
    IReadOnlyList<Change> Changes,
    TimeSpan Duration,
    SourceSpan Source)
{
    /// <summary>Why it failed, was skipped, or is unknown.</summary>
    public string? Message { get; init; }

    /// <summary>Resources whose changes asked this one to refresh (empty when none did).</summary>
    public IReadOnlyList<string> RefreshedBy { get; init; } = [];

    /// <summary>What the refresh did or, in --noop, would do (e.g. the restart's argv).</summary>
    public IReadOnlyList<Change> RefreshChanges { get; init; } = [];

    /// <summary>Whether a refresh was delivered (or, in --noop, would be).</summary>
    public bool Refreshed { get; init; }

    /// <summary>
    /// For resources at a path (file, directory, link) that were applied: what stood there just before
    /// the changes and just after (null otherwise, and in --noop). <c>converge undo</c> reverts from these.
    /// </summary>
    public PathState? Before { get; init; }

    /// <inheritdoc cref="Before" />
    public PathState? After { get; init; }

    public bool IsChange => Status is OutcomeStatus.Changed or OutcomeStatus.WouldChange or OutcomeStatus.Unknown;
}
