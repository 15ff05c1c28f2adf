namespace Converge.Providers.Contract;

/// <summary>
/// Optional ability of a provider: read the actual state of many resources with one query (one
/// <c>dpkg-query</c> for every package of the run, not one per package). The engine calls
/// <see cref="ReadManyAsync"/> once per run, before any resource starts, with every selected spec of
/// the provider's type; a resource then uses its prefetched state unless something it depends on
/// changed (or would change) first, in which case its own <see cref="IResourceProvider.ReadAsync"/> runs.
/// </summary>
public interface IBatchedReader
{
    /// <summary>
    /// The actual state of each spec, keyed by resource id; the values are what
    /// <see cref="IResourceProvider.ReadAsync"/> would have returned. Never changes the machine. A spec
    /// missing from the answer (or a thrown exception) makes the engine fall back to single reads, so
    /// each resource reports its own error.
    /// </summary>
    ValueTask<IReadOnlyDictionary<Compiler.Catalog.ResourceId, object>> ReadManyAsync(
        IReadOnlyList<ResourceSpec> specs, ProviderContext context, CancellationToken ct);
}
