namespace Converge.Providers.Group;

/// <summary>A group as read from /etc/group: whether it exists, its gid and its listed members (sorted).</summary>
public sealed record GroupActual(string Name, bool Exists, long Gid, IReadOnlyList<string> Members)
{
    /// <summary>No group of that name.</summary>
    public static GroupActual Absent(string name) => new(name, false, 0, []);
}
