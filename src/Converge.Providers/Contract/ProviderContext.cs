using Converge.Machine;

namespace Converge.Providers.Contract;

/// <summary>
/// What a provider may use while reading and applying: the machine, the backup bucket, and the set of
/// paths the catalog manages (so a directory's <c>purge</c> spares them).
/// </summary>
public sealed record ProviderContext(ISystem System, IBucket Bucket, IReadOnlySet<string> ManagedPaths);

/// <summary>Specs of resources that manage a filesystem path implement this, so <c>purge</c> knows what is managed.</summary>
public interface IManagesPath
{
    string Path { get; }
}
