using Converge.Providers.Contract;

namespace Converge.Providers.Cron;

/// <summary>Whether the job should exist.</summary>
public enum CronEnsure { Present, Absent }

/// <summary>Where the job lives: the user's crontab (<c>crontab -u USER</c>) or its own file in <c>/etc/cron.d</c>.</summary>
public enum CronTarget { Crontab, Crond }

/// <summary>
/// The typed desired state of a <c>cron</c> resource: one job, identified by the marker comment
/// <c># converge: cron[TITLE]</c> above it, so lines Converge did not write are never touched.
/// </summary>
public sealed record CronSpec : ResourceSpec
{
    /// <summary>The resource title: the marker's name and, for <see cref="CronTarget.Crond"/>, the file name.</summary>
    public required string Name { get; init; }

    public CronEnsure Ensure { get; init; } = CronEnsure.Present;

    public CronTarget Target { get; init; } = CronTarget.Crontab;

    /// <summary>Whose crontab, or the user field of the cron.d line (default root).</summary>
    public string User { get; init; } = "root";

    /// <summary>The five fields joined by single spaces, or an <c>@</c> macro; null only when absent.</summary>
    public string? Schedule { get; init; }

    /// <summary>The command, as cron's shell runs it; null only when absent.</summary>
    public string? Command { get; init; }

    /// <summary>NAME=value lines written between the marker and the job, in manifest order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    /// <summary>The file for <see cref="CronTarget.Crond"/>.</summary>
    public string CrondPath => "/etc/cron.d/" + Name;

    /// <summary>The marker comment that identifies this job's block.</summary>
    public string Marker => CronText.Marker(Name);

    /// <summary>The block's lines as written: the marker, the environment, then the job.</summary>
    public IReadOnlyList<string> Block()
    {
        var lines = new List<string> { Marker };
        foreach (var (name, value) in Environment) lines.Add($"{name}={value}");
        lines.Add(Target == CronTarget.Crond ? $"{Schedule} {User} {Command}" : $"{Schedule} {Command}");
        return lines;
    }

    // Records compare lists by reference; specs from the same source must be equal.
    public bool Equals(CronSpec? other) =>
        other is not null && base.Equals(other) && Name == other.Name && Ensure == other.Ensure && Target == other.Target
        && User == other.User && Schedule == other.Schedule && Command == other.Command && Environment.SequenceEqual(other.Environment);

    public override int GetHashCode() => HashCode.Combine(Name, Ensure, Target, User, Schedule, Command);
}
