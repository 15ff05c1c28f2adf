using Converge.Providers.Accounts;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.User;

public enum UserEnsure { Present, Absent }

/// <summary>An account expiry: a date, or <see cref="Date"/> null for "never expires" (<c>expiry: absent</c>).</summary>
public sealed record UserExpiry(DateOnly? Date)
{
    /// <summary>The value shadow stores: days since 1970-01-01, or null for never.</summary>
    public long? Days => Date is { } d ? d.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber : null;

    /// <summary>As written in manifests and passed to <c>--expiredate</c>: YYYY-MM-DD, or absent.</summary>
    public override string ToString() => Date?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "absent";

    /// <summary>The display form of a shadow expiry field (days since the epoch, null for never).</summary>
    public static string Show(long? days) =>
        days is { } n ? DateOnly.FromDateTime(DateTime.UnixEpoch).AddDays((int)n).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "absent";
}

/// <summary>The typed desired state of a <c>user</c> resource; null members are not managed.</summary>
public sealed record UserSpec : ResourceSpec
{
    public UserSpec() { }

    /// <summary>A spec for tests and callers that build one by hand; the id is <c>user[name]</c>.</summary>
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public UserSpec(string name)
    {
        Name = name;
        Id = new Compiler.Catalog.ResourceId("user", name);
        SensitiveProperties = UserProvider.AlwaysSensitive;
    }

    /// <summary>The login name (the title).</summary>
    public required string Name { get; init; }

    public UserEnsure Ensure { get; init; } = UserEnsure.Present;

    public long? Uid { get; init; }

    /// <summary>The primary group, by name or number.</summary>
    public Principal? Gid { get; init; }

    /// <summary>Supplementary groups, sorted; null: not managed.</summary>
    public IReadOnlyList<string>? Groups { get; init; }

    public Membership Membership { get; init; } = Membership.Minimum;

    public string? Home { get; init; }

    /// <summary>Create the home with the user, move it when <see cref="Home"/> changes, remove it with the user.</summary>
    public bool ManageHome { get; init; }

    public string? Shell { get; init; }

    /// <summary>The GECOS field.</summary>
    public string? Comment { get; init; }

    /// <summary>Create as a system account (<c>useradd --system</c>); has no effect on an existing user.</summary>
    public bool System { get; init; }

    /// <summary>A crypt(3) hash; always sensitive.</summary>
    public string? Password { get; init; }

    public UserExpiry? Expiry { get; init; }

    public bool Equals(UserSpec? other) =>
        other is not null && base.Equals(other) && Name == other.Name && Ensure == other.Ensure && Uid == other.Uid
        && Gid == other.Gid && Membership == other.Membership && Home == other.Home && ManageHome == other.ManageHome
        && Shell == other.Shell && Comment == other.Comment && System == other.System && Password == other.Password
        && Expiry == other.Expiry
        && (Groups is null ? other.Groups is null : other.Groups is not null && Groups.SequenceEqual(other.Groups));

    public override int GetHashCode() => HashCode.Combine(Name, Ensure, Uid, Gid);
}
