using Converge.Providers.Contract;

namespace Converge.Providers.Link;

/// <summary>Whether a symlink should exist at the path.</summary>
public enum LinkEnsure { Link, Absent }

/// <summary>The typed desired state of a <c>link</c> resource.</summary>
public sealed record LinkSpec : ResourceSpec, IManagesPath
{
    /// <summary>The absolute, normalized path of the link itself (the title).</summary>
    public required string Path { get; init; }

    public LinkEnsure Ensure { get; init; } = LinkEnsure.Link;

    /// <summary>What the link points to, exactly as written (relative targets stay relative); null only when absent.</summary>
    public string? Target { get; init; }

    /// <summary>Allows replacing a regular file (backed up) or a directory (removed recursively) standing at the path.</summary>
    public bool Force { get; init; }
}
