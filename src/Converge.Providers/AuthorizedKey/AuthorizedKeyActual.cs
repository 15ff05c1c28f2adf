using Converge.Machine;

namespace Converge.Providers.AuthorizedKey;

/// <summary>What Read found for the user's authorized_keys: everything Diff needs.</summary>
public sealed record AuthorizedKeyActual
{
    /// <summary>The user's account (home, uid, primary gid); null when the user does not exist.</summary>
    public (string Home, int Uid, int Gid)? Account { get; init; }

    /// <summary>True when ~/.ssh is missing and so is the home directory itself (or it is not a directory).</summary>
    public bool HomeMissing { get; init; }

    /// <summary>lstat of ~/.ssh; null when missing.</summary>
    public FileStatus? DirectoryStatus { get; init; }

    /// <summary>lstat of ~/.ssh/authorized_keys; null when missing.</summary>
    public FileStatus? FileStatus { get; init; }

    /// <summary>The file's text when it is a regular file.</summary>
    public string? Content { get; init; }

    public string? DirectoryPath => Account is { } a ? AuthorizedKeyProvider.SshDirectory(a.Home) : null;

    public string? FilePath => DirectoryPath is { } d ? d + "/authorized_keys" : null;
}
