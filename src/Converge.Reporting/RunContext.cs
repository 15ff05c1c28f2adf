namespace Converge.Reporting;

/// <summary>The manifest revision a run came from: who changed what, when. Null members are unknown.</summary>
public sealed record Revision(string? Commit, string? Author, string? Subject, DateTimeOffset? Date, bool Dirty)
{
    public string Short => Commit is { Length: > 7 } c ? c[..7] : Commit ?? "unknown";
}

/// <summary>Who ran what, where: the facts a report starts with.</summary>
public sealed record RunContext(
    string RunId,
    string Host,
    string User,
    string? SudoUser,
    string ManifestPath,
    Revision? Revision,
    DateTimeOffset StartedAt)
{
    /// <summary>The reviewed plan this run applied (<c>apply --plan</c>); null for any other run.</summary>
    public Plans.PlanReference? Plan { get; init; }

    /// <summary>A sortable, unique run id: UTC time plus a random suffix (two runs in one second differ).</summary>
    public static string NewRunId(DateTimeOffset now)
        => now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)
           + "-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();

    /// <summary>The invoking user (and, under sudo, who ran sudo).</summary>
    public static (string User, string? SudoUser) CurrentUser()
    {
        var user = Environment.UserName;
        var sudo = Environment.GetEnvironmentVariable("SUDO_USER");
        return (user, string.IsNullOrEmpty(sudo) ? null : sudo);
    }
}
