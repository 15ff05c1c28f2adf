using Converge.Machine;
using Converge.Providers.Common;

namespace Converge.Providers.File;

/// <summary>
/// What Read found for a <c>file</c> resource, plus what it resolved for the spec at that moment (the
/// source file's bytes, owner ids): Diff is pure, so everything it compares is here.
/// </summary>
public sealed record FileActual
{
    /// <summary>lstat of the path; null when nothing is there.</summary>
    public FileStatus? Status { get; init; }

    /// <summary>The file's current bytes: read only when a regular file is there and content is managed or may be backed up on removal.</summary>
    public byte[]? Content { get; init; }

    /// <summary>The bytes the file should hold (<c>content</c>, or <c>source</c> read now); null when content is not managed.</summary>
    public byte[]? DesiredContent { get; init; }

    public OwnershipActual Ownership { get; init; } = OwnershipActual.None;

    public FileKind? Kind => Status?.Kind;
}
