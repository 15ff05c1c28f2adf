using Converge.Engine;
using Converge.Reporting.Plans;

namespace Converge.Cli.Commands;

/// <summary>
/// The reviewed-plan parts of <c>apply</c> (docs/plans.md): the option rules, reading a plan file, and
/// saying why a plan was refused. The engine work stays in <see cref="ApplyCommand"/>.
/// </summary>
internal static class ApplyPlan
{
    /// <summary>A usage error in the plan options, or null.</summary>
    public static string? UsageError(ApplySettings apply)
    {
        if (apply.PlanOut is not null && !apply.Noop)
            return "--out saves a plan, which only --noop makes: 'converge --noop --out plan.json'";
        if (apply.PlanOut is not null && apply.PlanIn is not null)
            return "--out and --plan do not go together: make a plan with --noop --out, apply it with --plan";
        if (apply.PlanIn is not null && apply.Tags.Count > 0)
            return "--tags cannot be combined with --plan: the plan carries the tags it was made with";
        if (apply.PlanMaxAgeInvalid is { } age)
            return $"--max-age must be a positive age such as 90, 90s, 15m, 2h or 1d; got '{age}'";
        if (apply.PlanMaxAge is not null && apply.PlanIn is null)
            return "--max-age applies to --plan";
        return null;
    }

    /// <summary>Reads the plan file and checks its age. Null (after printing why) when it cannot be used.</summary>
    public static (PlanDocument Plan, PlanReference Reference)? Read(string path, TimeSpan? maxAge, DateTimeOffset now)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"converge: --plan {path}: {e.Message}; nothing was changed");
            return null;
        }
        PlanDocument plan;
        try
        {
            plan = PlanDocument.Read(path, bytes);
        }
        catch (PlanFileException e)
        {
            Console.Error.WriteLine($"converge: {e.Message}; nothing was changed");
            return null;
        }
        var age = now - plan.CreatedAt;
        if (maxAge is { } max && age > max)
        {
            Console.Error.WriteLine($"converge: {path}: plan {plan.PlanId} was made {Show(age)} ago, more than --max-age {Show(max)}; nothing was changed. Make a new plan and review it again.");
            return null;
        }
        return (plan, new PlanReference(plan.PlanId, PlanDocument.FileDigest(bytes), Path.GetFullPath(path)));
    }

    /// <summary>Prints why the plan was refused: every difference, then what to do.</summary>
    public static void PrintRefusal(string path, PlanDocument plan, IReadOnlyList<string> drift)
    {
        var e = Console.Error;
        e.WriteLine($"converge: plan {plan.PlanId} ({path}) refused: the host or the manifests changed since it was made; nothing was changed");
        foreach (var line in drift) e.WriteLine("  - " + line);
        e.WriteLine($"converge: make a new plan ('converge --noop --out {path}') and review it again");
    }

    /// <summary>
    /// Records a refused <c>apply --plan</c> as a run that did not reach the engine (exit 1, the drift as
    /// its errors, the plan it refused), so the history shows who tried to apply what and why it stopped.
    /// </summary>
    public static void SaveRefusal(string stateDir, Reporting.RunContext context, string node, IReadOnlyList<string> drift, Notify.RetentionConfig retention, Serilog.ILogger log)
    {
        var finished = DateTimeOffset.UtcNow;
        try
        {
            Undo.ResourceRun.Reports(stateDir, retention).SaveFailure(context,
                s => Reporting.RunReport.WriteFailure(s, context, node, drift, ExitCodes.ManifestError, finished), ExitCodes.ManifestError, finished);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error("Could not write the run report to {StateDir}: {Message}", stateDir, e.Message);
        }
    }

    /// <summary>Writes the plan file atomically (temp, fsync, rename), like Converge's own state files.</summary>
    public static void Save(string path, PlanDocument plan) => StateFiles.WriteAtomic(path, s => s.Write(plan.ToJsonBytes()));

    private static string Show(TimeSpan t) => t.TotalDays >= 1 ? $"{t.TotalDays:0.#} d"
        : t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h"
        : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#} min"
        : $"{t.TotalSeconds:0} s";
}
