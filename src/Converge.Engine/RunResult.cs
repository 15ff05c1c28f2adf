namespace Converge.Engine;

/// <summary>Counts over a run's outcomes.</summary>
public sealed record RunSummary(int Total, int Unchanged, int Changed, int WouldChange, int Unknown, int Failed, int Skipped)
{
    public static RunSummary Of(IReadOnlyList<ResourceOutcome> outcomes)
    {
        int Count(OutcomeStatus s) => outcomes.Count(o => o.Status == s);
        return new(outcomes.Count, Count(OutcomeStatus.Unchanged), Count(OutcomeStatus.Changed),
            Count(OutcomeStatus.WouldChange), Count(OutcomeStatus.Unknown), Count(OutcomeStatus.Failed), Count(OutcomeStatus.Skipped));
    }
}

/// <summary>The outcomes of a run, in graph order, and what they add up to.</summary>
public sealed record RunResult(IReadOnlyList<ResourceOutcome> Outcomes, bool Noop, bool Interrupted, TimeSpan Duration)
{
    public RunSummary Summary { get; } = RunSummary.Of(Outcomes);

    /// <summary>
    /// The detailed exit code (DESIGN.md): 0 nothing to do, 2 changes, 4 failures, 6 both. An interrupted
    /// run counts as failed: resources were left unconverged.
    /// </summary>
    public int ExitCode => ExitCodes.For(Summary) | (Interrupted ? ExitCodes.Failures : 0);
}

/// <summary>The exit codes Converge returns, in one place.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The manifests could not be loaded or compiled; nothing was touched.</summary>
    public const int ManifestError = 1;
    public const int Changes = 2;
    public const int Failures = 4;
    public const int ChangesAndFailures = 6;
    /// <summary>Bad command line (sysexits EX_USAGE).</summary>
    public const int Usage = 64;

    public static int For(RunSummary s)
    {
        var changes = s.Changed + s.WouldChange + s.Unknown > 0;
        var failures = s.Failed > 0;
        return (changes ? Changes : 0) | (failures ? Failures : 0);
    }
}
