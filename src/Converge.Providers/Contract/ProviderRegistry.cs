using Converge.Compiler.Catalog;

namespace Converge.Providers.Contract;

/// <summary>
/// The resource types this build knows, by name. The one place where abstract types get their
/// implementations; later, facts will pick among several (package → apt on Debian).
/// </summary>
public sealed class ProviderRegistry : IResourceTypes
{
    private readonly Dictionary<string, IResourceProvider> _byType;

    public ProviderRegistry(IEnumerable<IResourceProvider> providers)
    {
        _byType = providers.ToDictionary(p => p.Type, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> TypeNames => _byType.Keys;

    public bool IsKnown(string type) => _byType.ContainsKey(type);

    public IResourceProvider Get(string type) => _byType[type];
}
