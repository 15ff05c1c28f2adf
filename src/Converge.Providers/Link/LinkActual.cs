using Converge.Machine;

namespace Converge.Providers.Link;

/// <summary>What Read found at a <c>link</c> resource's path.</summary>
public sealed record LinkActual
{
    /// <summary>lstat of the path (never following it); null when nothing is there.</summary>
    public FileStatus? Status { get; init; }

    /// <summary>The sha256 of a regular file standing at the path when force will replace it (its backup key).</summary>
    public string? BlockingSha256 { get; init; }

    public FileKind? Kind => Status?.Kind;

    /// <summary>The current target when a symlink is there.</summary>
    public string? Target => Status is { Kind: FileKind.Symlink } s ? s.LinkTarget : null;
}
