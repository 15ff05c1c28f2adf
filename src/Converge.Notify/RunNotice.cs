using Converge.Engine;
using Converge.Providers.Contract;
using Converge.Reporting;

namespace Converge.Notify;

/// <summary>A resource a run changed (or, in a preview, would change) and which of its properties.</summary>
public sealed record NoticeChange(string Id, string Status, IReadOnlyList<string> Properties);

/// <summary>A resource that failed, with its (redacted) message.</summary>
public sealed record NoticeFailure(string Id, string? Message);

/// <summary>
/// What notifications say about one run: built only from the data the report is written from, after the
/// engine redacted it (changed properties and failure messages, never values or diffs), so nothing sent
/// can hold more than the report does — and secrets never reach the report.
/// </summary>
public sealed record RunNotice
{
    /// <summary>At most this many changed resources and failures are listed; the counts stay exact.</summary>
    public const int MaxListed = 50;

    public required string Host { get; init; }
    public required string Node { get; init; }
    public required string RunId { get; init; }
    public bool Noop { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public double DurationMs { get; init; }
    public int ExitCode { get; init; }
    public bool Interrupted { get; init; }

    public required string User { get; init; }
    public string? SudoUser { get; init; }
    public string? Operator { get; init; }
    public Revision? Revision { get; init; }

    /// <summary>The commit the host was on before this run (the last run's revision), when known.</summary>
    public string? PreviousRevision { get; init; }

    public int Total { get; init; }
    public int Unchanged { get; init; }
    public int Changed { get; init; }
    public int WouldChange { get; init; }
    public int Failed { get; init; }
    public int Skipped { get; init; }

    public IReadOnlyList<NoticeChange> Changes { get; init; } = [];
    public IReadOnlyList<NoticeFailure> Failures { get; init; } = [];

    /// <summary>Why the run never reached the engine (manifests that do not load), one line each.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>True when something changed (or, in a preview, would change).</summary>
    public bool HasChanges => Changed > 0 || WouldChange > 0;

    /// <summary>True when a resource failed, the run was interrupted, or the manifests did not load.</summary>
    public bool HasFailures => Failed > 0 || Errors.Count > 0 || (ExitCode & ExitCodes.Failures) != 0 || ExitCode == ExitCodes.ManifestError;

    /// <summary>The notice of a run the engine finished.</summary>
    public static RunNotice FromRun(RunContext context, string node, RunResult result, DateTimeOffset finishedAt, string? previousRevision)
    {
        var s = result.Summary;
        return Base(context, node, finishedAt, previousRevision) with
        {
            Noop = result.Noop,
            DurationMs = Math.Round(result.Duration.TotalMilliseconds, 1),
            ExitCode = result.ExitCode,
            Interrupted = result.Interrupted,
            Total = s.Total,
            Unchanged = s.Unchanged,
            Changed = s.Changed,
            WouldChange = s.WouldChange,
            Failed = s.Failed,
            Skipped = s.Skipped,
            Changes = result.Outcomes
                .Where(o => o.Status is OutcomeStatus.Changed or OutcomeStatus.WouldChange)
                .Take(MaxListed)
                .Select(o => new NoticeChange(o.Id.ToString(), RunReport.StatusName(o.Status),
                    o.Changes.Concat(o.RefreshChanges).Select(c => c.Property).Distinct().ToList()))
                .ToList(),
            Failures = result.Outcomes
                .Where(o => o.Status is OutcomeStatus.Failed)
                .Take(MaxListed)
                .Select(o => new NoticeFailure(o.Id.ToString(), o.Message))
                .ToList(),
        };
    }

    /// <summary>The notice of a run that never reached the engine (its report's <c>errors</c>).</summary>
    public static RunNotice FromFailure(RunContext context, string node, IReadOnlyList<string> errors, int exitCode, DateTimeOffset finishedAt,
        string? previousRevision)
        => Base(context, node, finishedAt, previousRevision) with
        {
            DurationMs = Math.Round((finishedAt - context.StartedAt).TotalMilliseconds, 1),
            ExitCode = exitCode,
            Errors = errors.Take(MaxListed).ToList(),
        };

    private static RunNotice Base(RunContext context, string node, DateTimeOffset finishedAt, string? previousRevision) => new()
    {
        Host = context.Host,
        Node = node,
        RunId = context.RunId,
        StartedAt = context.StartedAt,
        FinishedAt = finishedAt,
        User = context.User,
        SudoUser = context.SudoUser,
        Operator = context.Operator,
        Revision = context.Revision,
        PreviousRevision = previousRevision,
    };
}
