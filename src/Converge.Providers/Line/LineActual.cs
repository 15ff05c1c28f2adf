using Converge.Machine;

namespace Converge.Providers.Line;

/// <summary>What Read found at a <c>line</c> resource's path: everything Diff needs, so Diff stays pure.</summary>
public sealed record LineActual
{
    /// <summary>lstat of the path; null when nothing is there.</summary>
    public FileStatus? Status { get; init; }

    /// <summary>The file's bytes; null unless a regular file is there.</summary>
    public byte[]? Content { get; init; }

    public FileKind? Kind => Status?.Kind;
}
