using Converge.Machine;
using Converge.Providers.Contract;
using FileAttributes = Converge.Machine.FileAttributes;

namespace Converge.Providers.Common;

/// <summary>The mode, owner and group a file-like resource asks for; null members are not managed.</summary>
public sealed record OwnershipSpec(UnixMode? Mode, Principal? Owner, Principal? Group)
{
    public static readonly OwnershipSpec Unmanaged = new(null, null, null);
}

/// <summary>
/// Ownership as read: the ids the spec's names resolved to at Read time (null when the account does
/// not exist yet), and the current owner and group as display names (or numbers when unnamed).
/// </summary>
public sealed record OwnershipActual(int? DesiredUid, int? DesiredGid, string? CurrentOwner, string? CurrentGroup)
{
    public static readonly OwnershipActual None = new(null, null, null, null);

    /// <summary>Resolves the spec's names and names the current ids of <paramref name="status"/>. Reads only.</summary>
    public static OwnershipActual Read(OwnershipSpec spec, FileStatus? status, IUserDatabase users) => new(
        spec.Owner?.ResolveUser(users),
        spec.Group?.ResolveGroup(users),
        // Current names are looked up only for what is managed: each lookup checks passwd/group for
        // changes, and a no-op run over 10,000 files should not do that 20,000 times.
        status is null || spec.Owner is null ? null : users.UserName(status.Uid) ?? status.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        status is null || spec.Group is null ? null : users.GroupName(status.Gid) ?? status.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>Diff and Apply of mode/owner/group, shared by file, directory (and any future path type).</summary>
public static class Ownership
{
    /// <summary>
    /// Changes for mode, owner and group. With <paramref name="status"/> null (the path is about to be
    /// created) every managed attribute is listed with From = null, so a plan shows what the new path gets.
    /// An owner whose name did not resolve at Read time always differs: it may be created earlier in the run.
    /// </summary>
    public static IEnumerable<Change> Diff(OwnershipSpec spec, OwnershipActual actual, FileStatus? status)
    {
        if (spec.Owner is { } owner && (status is null || actual.DesiredUid != status.Uid))
            yield return new Change("owner", status is null ? null : actual.CurrentOwner, owner.Text);
        if (spec.Group is { } group && (status is null || actual.DesiredGid != status.Gid))
            yield return new Change("group", status is null ? null : actual.CurrentGroup, group.Text);
        if (spec.Mode is { } mode && (status is null || status.Mode != mode))
            yield return new Change("mode", status?.Mode.ToString(), mode.ToString());
    }

    /// <summary>
    /// The attributes to create a path with, resolving names now (Apply time): a user created earlier in
    /// this run resolves here though it did not at Read time. Throws when a name still does not resolve.
    /// </summary>
    public static FileAttributes Resolve(OwnershipSpec spec, IUserDatabase users) => new(
        spec.Mode,
        spec.Owner is { } o ? o.ResolveUser(users) ?? throw ProviderException.UnknownUser(o.Text) : null,
        spec.Group is { } g ? g.ResolveGroup(users) ?? throw ProviderException.UnknownGroup(g.Text) : null);

    /// <summary>
    /// Sets on an existing path exactly the attributes named by <paramref name="changes"/>: owner and group
    /// first, then the mode, because chown clears setuid/setgid bits.
    /// </summary>
    public static void Apply(string path, OwnershipSpec spec, IReadOnlyList<Change> changes, ISystem system)
    {
        var owner = changes.Any(c => c.Property == "owner");
        var group = changes.Any(c => c.Property == "group");
        var mode = changes.Any(c => c.Property == "mode");
        if (!owner && !group && !mode) return;
        var attributes = Resolve(spec, system.Users);
        if (owner || group)
            system.SetOwner(path, owner ? attributes.Uid : null, group ? attributes.Gid : null);
        // Re-apply a managed mode after chown even when it was right: chown may have cleared setgid.
        if (spec.Mode is { } m && (mode || owner || group))
            system.SetMode(path, m);
    }

    /// <summary>True for the properties <see cref="Diff"/> produces.</summary>
    public static bool IsOwnershipProperty(string property) => property is "owner" or "group" or "mode";
}
