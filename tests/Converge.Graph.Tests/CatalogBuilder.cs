using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;

namespace Converge.Graph.Tests;

/// <summary>Builds small catalogs in code; each resource sits on its own line of a pretend site.yaml.</summary>
internal sealed class CatalogBuilder
{
    private readonly List<CatalogResource> _resources = new();

    public CatalogBuilder Add(string id, string[]? require = null, string[]? before = null, string[]? notify = null, string[]? subscribe = null, string[]? tags = null)
    {
        ResourceId.TryParse(id, out var rid).ShouldBeTrue();
        var line = _resources.Count + 1;
        IReadOnlyList<ResourceRef> Refs(string[]? ids) => (ids ?? []).Select(x =>
        {
            ResourceId.TryParse(x, out var t).ShouldBeTrue();
            return new ResourceRef(t, new SourceSpan("site.yaml", line, 20, line, 20 + x.Length));
        }).ToList();
        _resources.Add(new CatalogResource
        {
            Id = rid,
            Span = new SourceSpan("site.yaml", line, 3, line, 3 + rid.Type.Length),
            Properties = new Dictionary<string, Value>(),
            Require = Refs(require),
            Before = Refs(before),
            Notify = Refs(notify),
            Subscribe = Refs(subscribe),
            Tags = tags ?? [],
            BaseDirectory = "/tmp",
        });
        return this;
    }

    public ResourceCatalog Build() => new("node", _resources, [], []);
}
