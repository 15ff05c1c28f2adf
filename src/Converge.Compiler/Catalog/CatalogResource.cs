using Converge.Manifests.Diagnostics;

namespace Converge.Compiler.Catalog;

/// <summary>A reference to another resource (<c>require: file[/etc/x]</c>) with where it was written.</summary>
public sealed record ResourceRef(ResourceId Target, SourceSpan Span);

/// <summary>
/// One resource of the compiled catalog: fully resolved desired state, plain data. Common keys
/// (require, before, notify, subscribe, tags, sensitive, noop) are lifted out of
/// <see cref="Properties"/>, which holds only the type's own properties, in manifest order.
/// <c>when</c> and <c>for_each</c> are gone: they were decided at compile time.
/// </summary>
public sealed record CatalogResource
{
    public required ResourceId Id { get; init; }
    public string Type => Id.Type;
    public string Title => Id.Title;

    /// <summary>Where the resource was declared (the type key of its map).</summary>
    public required SourceSpan Span { get; init; }

    /// <summary>Where the title was written, for errors about the title itself.</summary>
    public SourceSpan TitleSpan { get; init; }

    public required IReadOnlyDictionary<string, Value> Properties { get; init; }

    /// <summary>Span of each property's key, for "unknown property" errors.</summary>
    public IReadOnlyDictionary<string, SourceSpan> PropertyKeySpans { get; init; } = new Dictionary<string, SourceSpan>();

    public IReadOnlyList<ResourceRef> Require { get; init; } = [];
    public IReadOnlyList<ResourceRef> Before { get; init; } = [];
    public IReadOnlyList<ResourceRef> Notify { get; init; } = [];
    public IReadOnlyList<ResourceRef> Subscribe { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Everything about this resource is redacted in every output.</summary>
    public bool Sensitive { get; init; }

    /// <summary>This resource is only ever planned, never applied, even in a real run.</summary>
    public bool Noop { get; init; }

    /// <summary>The module that declared it (null for site.yaml or a single manifest file).</summary>
    public string? Module { get; init; }

    /// <summary>The module's directory (or the manifest's directory): the root for <c>source</c> files.</summary>
    public required string BaseDirectory { get; init; }
}
