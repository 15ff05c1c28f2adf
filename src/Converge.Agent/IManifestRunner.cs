using Converge.Engine;

namespace Converge.Agent;

/// <summary>
/// Manifests loaded, compiled and validated for this host (<see cref="Ok"/>), or the diagnostics that
/// stopped them, each rendered as the CLI prints it (file:line:col and the source line).
/// </summary>
public sealed record LoadedManifests(string Node, IReadOnlyList<string> Errors, object? Prepared)
{
    public bool Ok => Prepared is not null && Errors.Count == 0;
}

/// <summary>
/// The front and back half of a run, as the CLI builds them (facts → compile → validate, then the
/// engine). The agent owns the loop, git, the lock and the reports; it hands the runner a directory
/// and gets back either errors or a run result. Keeping the compiler behind this seam keeps the agent
/// project free of it, and lets <c>converge apply</c> and the agent share one pipeline.
/// </summary>
public interface IManifestRunner
{
    /// <summary>Gathers facts and compiles <paramref name="manifestPath"/>; touches nothing on the host.</summary>
    LoadedManifests Load(string manifestPath);

    /// <summary>
    /// Plans and (unless <paramref name="noop"/>) applies <paramref name="loaded"/>. The caller holds the
    /// run lock. Cancelling <paramref name="ct"/> stops starting new resources; a started one finishes.
    /// Each outcome goes to <paramref name="observe"/> as it completes.
    /// </summary>
    Task<RunResult> RunAsync(LoadedManifests loaded, string runId, bool noop, Action<ResourceOutcome> observe, CancellationToken ct);
}
