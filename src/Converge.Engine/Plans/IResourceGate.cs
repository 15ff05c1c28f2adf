using Converge.Compiler.Catalog;
using Converge.Providers.Contract;

namespace Converge.Engine.Plans;

/// <summary>
/// One resource as the engine has just read and diffed it, before anything of it is applied.
/// <see cref="Changes"/> are the provider's own (sensitive values in clear: digest them, never show
/// them); <see cref="Shown"/> are the same changes redacted, as every view gets them.
/// </summary>
/// <param name="RefreshDue">A refresh will follow the changes (or, in --noop, would).</param>
/// <param name="AfterUpstreamChange">
/// Something this resource depends on changed in this run (or, in --noop, would): its actual state may
/// differ from a read made before that change, by design.
/// </param>
public sealed record ReadResource(
    ResourceId Id,
    PreparedResource Resource,
    object Actual,
    IReadOnlyList<Change> Changes,
    IReadOnlyList<Change> Shown,
    bool RefreshDue,
    bool AfterUpstreamChange);

/// <summary>
/// Sees every resource between its read and its apply (<see cref="RunOptions.Gate"/>): reviewed plans
/// record the actual state there (--noop --out) and, for <c>apply --plan</c>, refuse a resource whose
/// changes differ from the reviewed ones. Called concurrently from the engine's workers.
/// </summary>
public interface IResourceGate
{
    /// <summary>
    /// Null to go on. A message fails the resource without applying anything of it (its dependents are
    /// skipped as for any failure); the message is shown as the failure, so it must hold no secret.
    /// </summary>
    string? Check(ReadResource read);
}
