using Converge.Machine;
using Converge.Providers.Common;

namespace Converge.Providers.Directory;

/// <summary>An entry <c>purge</c> will remove, with the sha256 of a regular file's content (its backup key).</summary>
public sealed record PurgeEntry(string Path, FileKind Kind, string? Sha256);

/// <summary>What Read found for a <c>directory</c> resource.</summary>
public sealed record DirectoryActual
{
    /// <summary>lstat of the path; null when nothing is there.</summary>
    public FileStatus? Status { get; init; }

    /// <summary>True when a directory is there and has no entries (decides whether ensure: absent needs force).</summary>
    public bool IsEmpty { get; init; }

    /// <summary>The sha256 of a regular file standing where the directory should be, when force will replace it.</summary>
    public string? BlockingSha256 { get; init; }

    /// <summary>With purge on: the entries directly inside that no managed path protects, in name order.</summary>
    public IReadOnlyList<PurgeEntry> Unmanaged { get; init; } = [];

    public OwnershipActual Ownership { get; init; } = OwnershipActual.None;

    public FileKind? Kind => Status?.Kind;
}
