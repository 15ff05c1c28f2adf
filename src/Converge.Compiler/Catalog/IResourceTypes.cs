namespace Converge.Compiler.Catalog;

/// <summary>
/// What the compiler needs to know about resource types: which exist (for "unknown resource type,
/// did you mean"). Implemented by the provider registry and handed in by the host, so the compiler
/// does not depend on providers.
/// </summary>
public interface IResourceTypes
{
    IReadOnlyCollection<string> TypeNames { get; }
    bool IsKnown(string type);
}
