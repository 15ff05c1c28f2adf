using Converge.Providers.Contract;

namespace Converge.Providers.AuthorizedKey;

/// <summary>Whether the key should be authorized.</summary>
public enum AuthorizedKeyEnsure { Present, Absent }

/// <summary>
/// The typed desired state of an <c>authorized_key</c> resource: one public key line in
/// <c>~USER/.ssh/authorized_keys</c>, matched against existing lines by type and blob only.
/// </summary>
public sealed record AuthorizedKeySpec : ResourceSpec
{
    public required string User { get; init; }

    public AuthorizedKeyEnsure Ensure { get; init; } = AuthorizedKeyEnsure.Present;

    /// <summary>The key type (<c>ssh-ed25519</c>), checked against the blob.</summary>
    public required string KeyType { get; init; }

    /// <summary>The base64 key data.</summary>
    public required string Blob { get; init; }

    /// <summary>The comment after the key; empty for none.</summary>
    public string Comment { get; init; } = "";

    /// <summary>Options before the key, in manifest order (<c>from="10.0.0.0/8"</c>, <c>no-pty</c>).</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>The line as it is written to authorized_keys.</summary>
    public string Line =>
        (Options.Count > 0 ? string.Join(',', Options) + " " : "") + KeyType + " " + Blob + (Comment.Length > 0 ? " " + Comment : "");

    public bool Equals(AuthorizedKeySpec? other) =>
        other is not null && base.Equals(other) && User == other.User && Ensure == other.Ensure && KeyType == other.KeyType
        && Blob == other.Blob && Comment == other.Comment && Options.SequenceEqual(other.Options);

    public override int GetHashCode() => HashCode.Combine(User, Ensure, KeyType, Blob, Comment);
}
