using Converge.Compiler.Catalog;
using Converge.Graph;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Engine;

/// <summary>A catalog resource with its validated spec and the provider that will converge it.</summary>
public sealed record PreparedResource(CatalogResource Resource, ResourceSpec Spec, IResourceProvider Provider);

/// <summary>Everything validated and ordered: what the engine runs. Building one touches nothing.</summary>
public sealed record PreparedRun(ResourceCatalog Catalog, ResourceGraph Graph, IReadOnlyDictionary<ResourceId, PreparedResource> Resources)
{
    /// <summary>Every path some file/directory/link resource manages, for <c>purge</c>.</summary>
    public IReadOnlySet<string> ManagedPaths { get; } =
        Resources.Values.Select(r => r.Spec).OfType<IManagesPath>().Select(s => s.Path).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// Validates a catalog completely before anything runs: each resource's spec (through its provider)
/// and the graph (references, auto-requires, cycles). Every problem goes to the bag; null if any is an error.
/// </summary>
public static class RunPreparer
{
    public static PreparedRun? Prepare(ResourceCatalog catalog, ProviderRegistry providers, DiagnosticBag diagnostics)
    {
        var prepared = ParseSpecs(catalog, providers, diagnostics);
        var graph = ResourceGraph.Build(catalog,
            r => prepared.TryGetValue(r.Id, out var p) ? p.Provider.AutoRequires(p.Spec) : [],
            diagnostics,
            r => prepared.TryGetValue(r.Id, out var p) ? p.Provider.ExclusiveKey(p.Spec) : null);

        if (graph is null || diagnostics.HasErrors) return null;
        return new PreparedRun(catalog, graph, prepared);
    }

    /// <summary>
    /// Validates each resource's properties through its provider. Also used on a partial catalog (one
    /// that had compile errors) so every property error shows up in the same pass.
    /// </summary>
    public static Dictionary<ResourceId, PreparedResource> ParseSpecs(ResourceCatalog catalog, ProviderRegistry providers, DiagnosticBag diagnostics)
    {
        var prepared = new Dictionary<ResourceId, PreparedResource>(catalog.Resources.Count);
        foreach (var r in catalog.Resources)
        {
            if (!providers.IsKnown(r.Type))
            {
                // The compiler reports unknown types with a location; this only guards the engine.
                diagnostics.Error("CVG4000", r.Span, $"no provider for resource type '{r.Type}'", r.Id.ToString());
                continue;
            }
            var provider = providers.Get(r.Type);
            var spec = provider.Parse(r, diagnostics);
            if (spec is not null) prepared.TryAdd(r.Id, new PreparedResource(r, spec, provider));
        }
        return prepared;
    }
}
