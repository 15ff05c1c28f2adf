namespace Converge.Providers.User;

/// <summary>
/// A user as read from passwd, shadow (only when password or expiry is managed) and group. Groups are
/// the supplementary groups that list the user, sorted. <see cref="DesiredGid"/> is the spec's
/// <c>gid</c> resolved at Read time (null when that group does not exist yet); <see cref="GidName"/>
/// names the current primary group for display.
/// </summary>
public sealed record UserActual(string Name, bool Exists)
{
    public long Uid { get; init; }
    public long Gid { get; init; }
    public string? GidName { get; init; }
    public long? DesiredGid { get; init; }
    public string Comment { get; init; } = "";
    public string Home { get; init; } = "";
    public string Shell { get; init; } = "";
    public IReadOnlyList<string> Groups { get; init; } = [];
    public string? Password { get; init; }
    public long? ExpiryDays { get; init; }

    /// <summary>No user of that name.</summary>
    public static UserActual Absent(string name, long? desiredGid = null) => new(name, false) { DesiredGid = desiredGid };
}
