using System.CommandLine;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Reporting;
using Converge.Reporting.Plans;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge plan show FILE</c>: a saved plan (from <c>--noop --out</c>) printed the way --noop printed
/// it, for a reviewer without a JSON viewer. Reads only the file: no manifests, no host, no state.
/// </summary>
public static class PlanCommand
{
    public static Command Build(CommonOptions o)
    {
        var plan = new Command("plan", "Reviewed plans: 'converge --noop --out plan.json' saves one, 'converge apply --plan plan.json' applies it (docs/plans.md).");
        var show = new Command("show", "Print a saved plan the way --noop printed it. Reads only the file.");
        var file = new Argument<string>("FILE") { Description = "A plan file written by 'converge --noop --out FILE'" };
        show.Arguments.Add(file);
        show.SetAction(parse => Show(o.Read(parse), parse.GetValue(file)!));
        plan.Subcommands.Add(show);
        return plan;
    }

    public static int Show(Settings settings, string path)
    {
        PlanDocument plan;
        List<ResourceOutcome> outcomes;
        try
        {
            plan = PlanDocument.Read(path, File.ReadAllBytes(path));
            outcomes = plan.Resources.Select(e => ToOutcome(path, e)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"converge: {path}: {e.Message}");
            return ExitCodes.ManifestError;
        }
        catch (PlanFileException e)
        {
            Console.Error.WriteLine($"converge: {e.Message}");
            return ExitCodes.ManifestError;
        }

        var renderer = new ConsoleRenderer(Console.Out, outcomes.Select(x => x.Id).ToList(), settings.Color,
            showUnchanged: settings.Verbosity > 0, ManifestPipeline.DisplayPath);
        var rev = plan.Revision is { } r ? $", revision {r.Short}{(r.Dirty ? " (dirty)" : "")}" : "";
        Console.Out.WriteLine($"Plan {plan.PlanId} of node {plan.Node} on host {plan.Host} from {ManifestPipeline.DisplayPath(plan.ManifestPath)}{rev}");
        Console.Out.WriteLine($"made {plan.CreatedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} by {plan.User}{(plan.SudoUser is { } s ? $" (sudo from {s})" : "")}"
            + (plan.Tags.Count > 0 ? $", tags {string.Join(",", plan.Tags)}" : ""));
        foreach (var o in outcomes) renderer.ResourceFinished(o);
        var result = new RunResult(outcomes, Noop: true, Interrupted: false, TimeSpan.Zero);
        var summary = ConsoleRenderer.SummaryLine(result);
        // The plan's own duration means nothing to a reviewer: end the line at the counts.
        Console.Out.WriteLine(summary[..summary.LastIndexOf(" in ", StringComparison.Ordinal)] + $" (plan: apply with 'converge apply --plan {path}')");
        return ExitCodes.Ok;
    }

    private static ResourceOutcome ToOutcome(string path, PlanEntry e)
    {
        if (!ResourceId.TryParse(e.Id, out var id)) throw new PlanFileException(path, $"damaged plan: '{e.Id}' is not a resource id");
        var status = e.Status switch
        {
            "unchanged" => OutcomeStatus.Unchanged,
            "would-change" => OutcomeStatus.WouldChange,
            "unknown" => OutcomeStatus.Unknown,
            "failed" => OutcomeStatus.Failed,
            "skipped" => OutcomeStatus.Skipped,
            _ => OutcomeStatus.Changed,
        };
        return new ResourceOutcome(id, status, e.Changes, TimeSpan.Zero, ParseSource(e.Source))
        {
            Message = e.Message,
            RefreshedBy = e.RefreshedBy,
            Refreshed = e.Refreshed,
            RefreshChanges = e.RefreshChanges,
        };
    }

    /// <summary><c>file:line:col</c> back into a span (the file may itself hold colons).</summary>
    private static SourceSpan ParseSource(string text)
    {
        var col = text.LastIndexOf(':');
        var line = col > 0 ? text.LastIndexOf(':', col - 1) : -1;
        if (line > 0 && int.TryParse(text[(line + 1)..col], out var l) && int.TryParse(text[(col + 1)..], out var c))
            return new SourceSpan(text[..line], l, c, l, c);
        return SourceSpan.None;
    }
}
