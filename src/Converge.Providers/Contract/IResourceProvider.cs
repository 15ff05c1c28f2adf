using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;

namespace Converge.Providers.Contract;

/// <summary>
/// The engine's untyped view of a provider. Implement it through <see cref="ResourceProvider{TSpec, TActual}"/>.
/// Contract: Parse validates everything the provider can know without the host (so bad input stops the
/// run before anything is touched); Read never changes the host; Diff is pure; Apply carries out exactly
/// the given changes or throws.
/// </summary>
public interface IResourceProvider
{
    /// <summary>The manifest type name, lower case with underscores (<c>file</c>, <c>authorized_key</c>).</summary>
    string Type { get; }

    /// <summary>The type's own properties (common keys like require/tags are not listed).</summary>
    IReadOnlyCollection<string> PropertyNames { get; }

    /// <summary>A typed spec, or null after reporting every problem (each with the value's span) to <paramref name="diagnostics"/>.</summary>
    ResourceSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics);

    /// <summary>Implicit dependencies (parent directory, owner's user); see <see cref="AutoRequire"/>.</summary>
    IEnumerable<AutoRequire> AutoRequires(ResourceSpec spec);

    /// <summary>
    /// True when Read's answer may depend on what another resource changes first (an exec whose
    /// <c>unless</c> runs a binary a pending package installs). In <c>--noop</c> such a resource, downstream
    /// of a pending change, is reported as unknown instead of guessed.
    /// </summary>
    bool ReadDependsOnUpstream(ResourceSpec spec);

    ValueTask<object> ReadAsync(ResourceSpec spec, ProviderContext context, CancellationToken ct);

    IReadOnlyList<Change> Diff(ResourceSpec spec, object actual);

    ValueTask ApplyAsync(ResourceSpec spec, object actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct);

    /// <summary>Whether the type reacts to <c>notify</c>/<c>subscribe</c> (exec runs, service restarts).</summary>
    bool IsRefreshable { get; }

    /// <summary>
    /// Whether Apply may run while other resources apply. Independent file writes can (their cost is
    /// waiting for fsync, which overlaps well); commands and package managers cannot, so the default is false.
    /// </summary>
    bool ConcurrentApply { get; }

    /// <summary>
    /// Resources whose specs return the same key are never read or applied at the same time: the graph
    /// chains them in run order (several <c>line</c> edits of one file). Null: no such constraint.
    /// </summary>
    string? ExclusiveKey(ResourceSpec spec);

    /// <summary>What a refresh would do, for <c>--noop</c> (e.g. the argv of the restart).</summary>
    IReadOnlyList<Change> PlanRefresh(ResourceSpec spec);

    /// <summary>
    /// Whether applying <paramref name="changes"/> already does what a pending refresh would, so the refresh
    /// is dropped (a service that is started, or stopped, needs no restart). Default: any change does. A
    /// service that is only enabled still runs the old configuration, so for it the refresh follows the changes.
    /// </summary>
    bool ChangesCoverRefresh(ResourceSpec spec, IReadOnlyList<Change> changes);

    /// <summary>Carries out the refresh; throws on failure. Only called when <see cref="IsRefreshable"/>.</summary>
    ValueTask RefreshAsync(ResourceSpec spec, ProviderContext context, CancellationToken ct);
}

/// <summary>
/// Base of every typed spec. <see cref="SensitiveProperties"/> lists properties whose values derived
/// from a secret; with <see cref="Sensitive"/> everything is redacted.
/// </summary>
public abstract record ResourceSpec
{
    public required ResourceId Id { get; init; }
    public bool Sensitive { get; init; }
    public IReadOnlySet<string> SensitiveProperties { get; init; } = NoSensitiveProperties;

    /// <summary>The shared empty set (one allocation, not one per resource).</summary>
    public static readonly IReadOnlySet<string> NoSensitiveProperties = System.Collections.Frozen.FrozenSet<string>.Empty;

    public bool IsSensitive(string property) => Sensitive || SensitiveProperties.Contains(property);
}

/// <summary>Typed base for providers: the untyped members cast and forward.</summary>
public abstract class ResourceProvider<TSpec, TActual> : IResourceProvider
    where TSpec : ResourceSpec
    where TActual : notnull
{
    public abstract string Type { get; }
    public abstract IReadOnlyCollection<string> PropertyNames { get; }

    public abstract TSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics);
    public virtual IEnumerable<AutoRequire> AutoRequires(TSpec spec) => [];
    public virtual bool ReadDependsOnUpstream(TSpec spec) => false;
    public abstract ValueTask<TActual> ReadAsync(TSpec spec, ProviderContext context, CancellationToken ct);
    public abstract IReadOnlyList<Change> Diff(TSpec spec, TActual actual);
    public abstract ValueTask ApplyAsync(TSpec spec, TActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct);

    public virtual bool IsRefreshable => false;
    public virtual bool ConcurrentApply => false;
    public virtual string? ExclusiveKey(TSpec spec) => null;
    public virtual IReadOnlyList<Change> PlanRefresh(TSpec spec) => [];
    public virtual bool ChangesCoverRefresh(TSpec spec, IReadOnlyList<Change> changes) => changes.Count > 0;
    public virtual ValueTask RefreshAsync(TSpec spec, ProviderContext context, CancellationToken ct)
        => throw new InvalidOperationException($"{Type} resources do not take refreshes");

    ResourceSpec? IResourceProvider.Parse(CatalogResource resource, DiagnosticBag diagnostics) => Parse(resource, diagnostics);
    IEnumerable<AutoRequire> IResourceProvider.AutoRequires(ResourceSpec spec) => AutoRequires((TSpec)spec);
    bool IResourceProvider.ReadDependsOnUpstream(ResourceSpec spec) => ReadDependsOnUpstream((TSpec)spec);
    async ValueTask<object> IResourceProvider.ReadAsync(ResourceSpec spec, ProviderContext context, CancellationToken ct)
        => await ReadAsync((TSpec)spec, context, ct).ConfigureAwait(false);
    IReadOnlyList<Change> IResourceProvider.Diff(ResourceSpec spec, object actual) => Diff((TSpec)spec, (TActual)actual);
    ValueTask IResourceProvider.ApplyAsync(ResourceSpec spec, object actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
        => ApplyAsync((TSpec)spec, (TActual)actual, changes, context, ct);
    IReadOnlyList<Change> IResourceProvider.PlanRefresh(ResourceSpec spec) => PlanRefresh((TSpec)spec);
    bool IResourceProvider.ChangesCoverRefresh(ResourceSpec spec, IReadOnlyList<Change> changes) => ChangesCoverRefresh((TSpec)spec, changes);
    string? IResourceProvider.ExclusiveKey(ResourceSpec spec) => ExclusiveKey((TSpec)spec);
    ValueTask IResourceProvider.RefreshAsync(ResourceSpec spec, ProviderContext context, CancellationToken ct)
        => RefreshAsync((TSpec)spec, context, ct);
}
