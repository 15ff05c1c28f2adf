using Converge.Machine;

namespace Converge.Providers.Contract;

/// <summary>What a provider may use while reading and applying: the machine and the backup bucket.</summary>
public sealed record ProviderContext(ISystem System, IBucket Bucket);
