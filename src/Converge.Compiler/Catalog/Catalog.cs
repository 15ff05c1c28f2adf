namespace Converge.Compiler.Catalog;

/// <summary>
/// The compiled desired state of one node: plain data, JSON-able, no host access needed to build it.
/// Resources are in declaration order; the graph decides the run order.
/// </summary>
public sealed record ResourceCatalog(
    string Node,
    IReadOnlyList<CatalogResource> Resources,
    IReadOnlyList<string> Modules,
    IReadOnlyList<string> SecretValues)
{
    /// <summary>
    /// The clear-text values of every secret the compile read. Never serialized; the output seams
    /// use it to scrub any text that might carry a secret (commands, error messages, stderr tails).
    /// </summary>
    public IReadOnlyList<string> SecretValues { get; init; } = SecretValues;
}
