namespace Converge.Compiler.Catalog;

/// <summary>
/// An implicit dependency a resource type asks for: the first of <see cref="FirstOf"/> that exists in
/// the catalog becomes a requirement (e.g. a file's nearest managed ancestor directory, tried from the
/// closest outwards). When none exists, nothing is added: auto-requires never cause errors.
/// </summary>
public sealed record AutoRequire(IReadOnlyList<ResourceId> FirstOf)
{
    public static AutoRequire Of(ResourceId id) => new([id]);
}
