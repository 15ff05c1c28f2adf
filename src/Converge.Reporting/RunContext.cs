namespace Converge.Reporting;

/// <summary>The manifest revision a run came from: who changed what, when. Null members are unknown.</summary>
public sealed record Revision(string? Commit, string? Author, string? Subject, DateTimeOffset? Date, bool Dirty)
{
    /// <summary>Who committed the revision (<c>Name &lt;email&gt;</c>); differs from the author after a rebase, cherry-pick or applied patch.</summary>
    public string? Committer { get; init; }

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

    /// <summary>
    /// Who pushed this run from another machine (<c>converge ssh</c> passes <c>--operator user@machine</c>);
    /// null for runs started on the host itself.
    /// </summary>
    public string? Operator { get; init; }

    /// <summary>
    /// A sortable, unique run id: UTC time to the second, then six hex digits: the millisecond (three
    /// digits, so two runs in one second still sort in the order they started, which <c>undo last</c>
    /// and <c>history</c> rely on) and three random ones.
    /// </summary>
    public static string NewRunId(DateTimeOffset now)
        => now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture)
           + "-" + now.UtcDateTime.Millisecond.ToString("x3", System.Globalization.CultureInfo.InvariantCulture)
           + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2)).ToLowerInvariant()[..3];

    /// <summary>The invoking user (and, under sudo, who ran sudo).</summary>
    public static (string User, string? SudoUser) CurrentUser()
    {
        var user = Environment.UserName;
        var sudo = Environment.GetEnvironmentVariable("SUDO_USER");
        return (user, string.IsNullOrEmpty(sudo) ? null : sudo);
    }
}
