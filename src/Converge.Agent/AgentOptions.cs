using System.Globalization;

namespace Converge.Agent;

/// <summary>
/// Everything the agent is told: where the manifests come from, how often to converge, where state goes.
/// Built from <c>--config FILE</c> overlaid with command-line flags (flags win); see docs/agent.md.
/// </summary>
public sealed record AgentOptions
{
    /// <summary>A git URL (anything <c>git fetch</c> accepts) or a local path to a git repository.</summary>
    public required string Source { get; init; }

    public string Branch { get; init; } = "main";

    /// <summary>A pinned revision (commit, tag): converged instead of the branch head.</summary>
    public string? Revision { get; init; }

    /// <summary>The manifest path inside the repository (a directory with site.yaml, or a file); "." is the root.</summary>
    public string Path { get; init; } = ".";

    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(30);
    public TimeSpan Splay { get; init; } = TimeSpan.Zero;
    public bool Once { get; init; }
    public bool Noop { get; init; }

    /// <summary>A run that takes longer is interrupted (no new resource starts); one that still hangs ends the agent process.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long a run waits for the run lock held by another run (a manual apply) before the cycle is recorded as failed.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long SIGTERM waits for the running resource and the report before the process exits anyway.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A git fetch that takes longer is killed and counts as the source being unavailable.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public bool VerifySignatures { get; init; }

    /// <summary>GnuPG home holding the trusted keys for <see cref="VerifySignatures"/> (null: gpg's default).</summary>
    public string? Keyring { get; init; }

    /// <summary>A node exporter textfile directory to write <c>converge.prom</c> into (null: no metrics).</summary>
    public string? MetricsDir { get; init; }

    /// <summary>Reports kept (<c>retention.reports.keep</c>); the same default as a manual run's.</summary>
    public int KeepReports { get; init; } = Converge.Notify.RetentionConfig.Default.ReportsKeep;

    /// <summary>Reports older than this are pruned (<c>retention.reports.max_age</c>).</summary>
    public TimeSpan? KeepAge { get; init; } = Converge.Notify.RetentionConfig.Default.ReportsMaxAge;

    /// <summary>The <c>retention:</c> settings; its bucket limits bound the backups after each run.</summary>
    public Converge.Notify.RetentionConfig Retention { get; init; } = Converge.Notify.RetentionConfig.Default;

    /// <summary>Where reports, backups, the git cache and the agent's state go.</summary>
    public required string StateDir { get; init; }

    /// <summary>The run lock shared with <c>converge apply</c>.</summary>
    public required string LockPath { get; init; }

    /// <summary>Webhooks and Graphite told about each run (docs/notifications.md); empty: none.</summary>
    public Converge.Notify.NotifyConfig Notify { get; init; } = Converge.Notify.NotifyConfig.Empty;
}

/// <summary>Durations as people write them: <c>30m</c>, <c>90s</c>, <c>1.5h</c>, <c>2d</c>, or plain seconds.</summary>
public static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var t = text.Trim();
        if (t.Length == 0) return false;
        var unit = char.IsLetter(t[^1]) ? char.ToLowerInvariant(t[^1]) : 's';
        var number = char.IsLetter(t[^1]) ? t[..^1] : t;
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n < 0) return false;
        double seconds = unit switch { 's' => n, 'm' => n * 60, 'h' => n * 3600, 'd' => n * 86400, _ => -1 };
        if (seconds < 0 || seconds > TimeSpan.FromDays(3650).TotalSeconds) return false;
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    public static TimeSpan Parse(string text, string what)
        => TryParse(text, out var v) ? v : throw new FormatException($"{what}: '{text}' is not a duration; write it like 30s, 5m, 1h or 2d");

    /// <summary>Short human form: 1.2 s, 30 m, 2 h.</summary>
    public static string Format(TimeSpan t)
    {
        if (t.TotalSeconds < 60) return t.TotalSeconds.ToString(t.TotalSeconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " s";
        if (t.TotalMinutes < 60) return t.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + " min";
        return t.TotalHours.ToString("0.#", CultureInfo.InvariantCulture) + " h";
    }
}
