using System.Text.Json.Nodes;
using Converge.Cli.Undo;
using Converge.Engine;
using Converge.Machine;
using Converge.Reporting.History;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge undo last|RUNID [--noop] [--json]</c>: reverts the file, directory and link changes of a
/// run (see <see cref="UndoPlanner"/>) as a run of its own, and lists what it cannot revert. Refuses a
/// --noop run, an unknown run, and a run that never reached the engine.
/// </summary>
public sealed class UndoCommand(Settings settings)
{
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public async Task<int> RunAsync(string name, bool noop, bool json, CancellationToken ct)
    {
        var stateDir = settings.EffectiveStateDir;
        var history = new ReportHistory(stateDir);
        if (history.Resolve(name, skipNoop: true, out var error) is not { } runId)
        {
            Console.Error.WriteLine($"converge: undo: {error}; nothing was changed");
            return ExitCodes.Usage;
        }
        if (StoredReport.Read(history.PathOf(runId)) is not { } report)
        {
            Console.Error.WriteLine($"converge: undo: {history.PathOf(runId)} is not a converge report (or cannot be read); nothing was changed");
            return ExitCodes.Failures;
        }
        if (report.Noop)
        {
            Console.Error.WriteLine($"converge: undo: run {runId} was a --noop run: it changed nothing, so there is nothing to undo");
            return ExitCodes.Usage;
        }
        if (report.Outcomes.Count == 0 && report.Errors.Count > 0)
        {
            Console.Error.WriteLine($"converge: undo: run {runId} stopped before changing anything (its manifests did not load), so there is nothing to undo");
            return ExitCodes.Usage;
        }

        var bucket = new FileBucket(Path.Combine(stateDir, "bucket"));
        var plan = new UndoPlanner(new LocalSystem(), bucket).Plan(report);
        var notes = plan.CannotUndo.Select(c => "not undone: " + c).Concat(plan.Drifted.Select(d => "drift: " + d)).ToList();
        if (plan.Resources.Count == 0)
        {
            if (!json)
            {
                Console.Out.WriteLine($"Nothing to undo in run {runId}: it changed no file, directory or link.");
                foreach (var n in notes) Console.Out.WriteLine("  " + n);
            }
            else Console.Out.WriteLine(new JsonObject { ["undo"] = Members(runId, plan) }.ToJsonString());
            return ExitCodes.Ok;
        }
        var extra = new JsonObject { ["undo"] = Members(runId, plan) };
        return await new ResourceRun(settings) { Json = json, Notes = notes, LockTimeout = LockTimeout }
            .RunAsync($"undo of run {runId}", report.Node, plan.Resources, noop, extra, ct);
    }

    private static JsonObject Members(string runId, UndoPlan plan) => new()
    {
        ["of"] = runId,
        ["cannotUndo"] = new JsonArray(plan.CannotUndo.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
        ["drifted"] = new JsonArray(plan.Drifted.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
    };
}
