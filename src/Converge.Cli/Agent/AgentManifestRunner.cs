using Converge.Agent;
using Converge.Engine;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Cli.Agent;

/// <summary>
/// The agent's view of the pipeline <c>converge apply</c> runs: <see cref="ManifestPipeline"/> to load
/// and validate, <see cref="RunEngine"/> to plan and apply, with the same refresh journal and backup
/// bucket in the state directory.
/// </summary>
public sealed class AgentManifestRunner(Settings settings, Serilog.ILogger log) : IManifestRunner
{
    /// <summary>The limits applied to the bucket after each run (<c>retention:</c> of agent.yaml, with the resolved report count).</summary>
    public Converge.Notify.RetentionConfig Retention { get; init; } = Converge.Notify.RetentionConfig.Default;

    public LoadedManifests Load(string manifestPath)
    {
        var loaded = new ManifestPipeline(settings, log).Load(manifestPath);
        var renderer = DiagnosticRenderer.ForFiles();
        foreach (var warning in loaded.Diagnostics.Where(d => d.Severity == Severity.Warning))
            log.Warning("{Diagnostic}", renderer.Render(warning));
        var errors = loaded.Diagnostics.Where(d => d.Severity == Severity.Error).Select(renderer.Render).ToList();
        return new LoadedManifests(loaded.Node, errors, loaded.Ok ? loaded : null);
    }

    public async Task<RunResult> RunAsync(LoadedManifests loaded, string runId, bool noop, Action<ResourceOutcome> observe, CancellationToken ct)
    {
        var result = (ManifestPipeline.Result)loaded.Prepared!;
        var run = result.Run!;
        var stateDir = settings.EffectiveStateDir;
        // --noop reads the journal (to show refreshes still owed) but the engine never writes it in a noop run.
        var journal = RefreshJournal.Open(Path.Combine(stateDir, "refresh-journal.json"));
        var context = new ProviderContext(new LocalSystem(), new FileBucket(Path.Combine(stateDir, "bucket")) { RunId = runId }, run.ManagedPaths);
        var engine = new RunEngine(context, journal, new Redactor(run.Catalog.SecretValues));
        var outcome = await engine.RunAsync(run, new RunOptions { Noop = noop, RunId = runId }, new Observer(observe), ct);
        // The agent holds the run lock here, as apply does when it prunes. A prune that fails costs
        // only disk space until the next run, so it never fails the run.
        if (!noop)
        {
            try
            {
                Undo.ResourceRun.PruneBucket(stateDir, DateTimeOffset.UtcNow, Retention, runWithoutReport: runId);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warning("Could not prune the bucket in {StateDir}: {Message}", stateDir, e.Message);
            }
        }
        return outcome;
    }

    private sealed class Observer(Action<ResourceOutcome> observe) : IRunObserver
    {
        public void ResourceFinished(ResourceOutcome outcome) => observe(outcome);
    }
}
