using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Directory;

/// <summary>Whether a directory should exist at the path.</summary>
public enum DirectoryEnsure { Directory, Absent }

/// <summary>The typed desired state of a <c>directory</c> resource.</summary>
public sealed record DirectorySpec : ResourceSpec, IManagesPath
{
    /// <summary>The absolute, normalized path (the title).</summary>
    public required string Path { get; init; }

    public DirectoryEnsure Ensure { get; init; } = DirectoryEnsure.Directory;

    public OwnershipSpec Ownership { get; init; } = OwnershipSpec.Unmanaged;

    /// <summary>Remove entries directly inside that no resource manages (and that contain no managed path).</summary>
    public bool Purge { get; init; }

    /// <summary>Allows removing a non-empty directory (ensure: absent) and replacing a file or link standing at the path.</summary>
    public bool Force { get; init; }
}
