using Converge.Providers.Accounts;
using Converge.Providers.Contract;

namespace Converge.Providers.Group;

public enum GroupEnsure { Present, Absent }

/// <summary>The typed desired state of a <c>group</c> resource; null members are not managed.</summary>
public sealed record GroupSpec : ResourceSpec
{
    public GroupSpec() { }

    /// <summary>A spec for tests and callers that build one by hand; the id is <c>group[name]</c>.</summary>
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public GroupSpec(string name)
    {
        Name = name;
        Id = new Compiler.Catalog.ResourceId("group", name);
    }

    /// <summary>The group name (the title).</summary>
    public required string Name { get; init; }

    public GroupEnsure Ensure { get; init; } = GroupEnsure.Present;

    public long? Gid { get; init; }

    /// <summary>Create as a system group (<c>groupadd --system</c>); has no effect on an existing group.</summary>
    public bool System { get; init; }

    /// <summary>Users listed in the group's member field, sorted; null: not managed.</summary>
    public IReadOnlyList<string>? Members { get; init; }

    public Membership Membership { get; init; } = Membership.Minimum;

    public bool Equals(GroupSpec? other) =>
        other is not null && base.Equals(other) && Name == other.Name && Ensure == other.Ensure && Gid == other.Gid
        && System == other.System && Membership == other.Membership
        && (Members is null ? other.Members is null : other.Members is not null && Members.SequenceEqual(other.Members));

    public override int GetHashCode() => HashCode.Combine(Name, Ensure, Gid);
}
