using Converge.Machine;

namespace Converge.Providers.Cron;

/// <summary>What Read found: the whole crontab (or cron.d file), so Diff stays pure.</summary>
public sealed record CronActual
{
    /// <summary>The crontab as <c>crontab -l</c> printed it, or the cron.d file's text; null when there is none.</summary>
    public string? Content { get; init; }

    /// <summary>For cron.d: lstat of the file (its mode and owner); null for crontabs or when missing.</summary>
    public FileStatus? Status { get; init; }
}
