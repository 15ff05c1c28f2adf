using Converge.Machine;

namespace Converge.Providers.Contract;

/// <summary>
/// What stood at a path at one moment, as a report records it before and after a change so that
/// <c>converge undo</c> has the facts: the kind (<c>absent</c>, <c>file</c>, <c>directory</c>,
/// <c>link</c>, <c>special</c>), a regular file's sha256 and size (its content, if backed up, is in the
/// bucket under that hash), mode, owner and group (ids, and names when the users database has them), a
/// link's target. <see cref="Sensitive"/>: the content is secret (views show the hash, never more).
/// </summary>
public sealed record PathState(string Kind)
{
    public string? Sha256 { get; init; }
    public long? Size { get; init; }
    public string? Mode { get; init; }
    public int? Uid { get; init; }
    public int? Gid { get; init; }
    public string? Owner { get; init; }
    public string? Group { get; init; }
    public string? Target { get; init; }
    public bool Sensitive { get; init; }

    public static readonly PathState Absent = new("absent");

    /// <summary>
    /// Reads the state of <paramref name="path"/> through <paramref name="system"/> (lstat; a regular
    /// file's bytes are hashed). Never changes anything.
    /// </summary>
    public static PathState Read(string path, ISystem system, bool sensitive)
    {
        if (system.Stat(path) is not { } st) return Absent with { Sensitive = sensitive };
        var kind = st.Kind switch
        {
            FileKind.File => "file",
            FileKind.Directory => "directory",
            FileKind.Symlink => "link",
            _ => "special",
        };
        var state = new PathState(kind)
        {
            Mode = st.Kind == FileKind.Symlink ? null : st.Mode.ToString(),
            Uid = st.Uid,
            Gid = st.Gid,
            Owner = system.Users.UserName(st.Uid),
            Group = system.Users.GroupName(st.Gid),
            Target = st.Kind == FileKind.Symlink ? st.LinkTarget : null,
            Sensitive = sensitive,
        };
        if (st.Kind == FileKind.File)
        {
            var bytes = system.ReadAllBytes(path);
            state = state with { Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), Size = bytes.Length };
        }
        return state;
    }
}

/// <summary>
/// Optional ability of a provider whose resources live at a path (file, directory, link): tell the
/// engine which path a spec changes and whether its content is secret, so the engine records the
/// path's <see cref="PathState"/> just before and just after applying its changes (the report's
/// <c>before</c> and <c>after</c>, which <c>converge undo</c> reverts from).
/// </summary>
public interface IPathResource
{
    /// <summary>The path the resource changes.</summary>
    string PathOf(ResourceSpec spec);

    /// <summary>Whether the content at the path derives from a secret (its state then shows hashes only).</summary>
    bool ContentIsSensitive(ResourceSpec spec);
}
