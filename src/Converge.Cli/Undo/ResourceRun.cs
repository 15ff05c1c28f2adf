using System.Text.Json.Nodes;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Graph;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers;
using Converge.Providers.Contract;
using Converge.Reporting;
using Converge.Reporting.History;

namespace Converge.Cli.Undo;

/// <summary>
/// Runs resources that a command built (not loaded from manifests) as a real run: the same providers,
/// the same <see cref="RunEngine"/>, the run lock, backups into the bucket, a report in the state dir
/// (with the command's own members, <c>undo</c> or <c>restore</c>) and the console view of <c>apply</c>.
/// The order comes from the resources' <c>require</c> lists alone: the caller decides it (undo reverses
/// the run), so providers' automatic requires are not added.
/// </summary>
public sealed class ResourceRun(Settings settings)
{
    /// <summary>Prints the run's JSON report instead of the human view.</summary>
    public bool Json { get; init; }

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Lines printed after the header (what cannot be undone, drift); also kept in the report by the caller.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// The config file with notify settings (<c>--config</c>; null: the default file when it exists). An undo
    /// or a restore changes files like an apply does, so it notifies the same webhooks and Graphite.
    /// </summary>
    public string? ConfigFile { get; init; }

    /// <summary>The run's kind in notifications (<c>undo</c>, <c>restore</c>).</summary>
    public required string Kind { get; init; }

    public async Task<int> RunAsync(string label, string node, IReadOnlyList<CatalogResource> resources, bool noop, JsonObject extra, CancellationToken ct)
    {
        var log = Logging.Create(settings);
        // Read before anything is touched: a mistake in the config file stops the run, as it does for apply.
        if (Commands.ApplyNotifications.LoadConfig(ConfigFile) is not { } config) return ExitCodes.Usage;
        var notify = config.Notify;
        var started = DateTimeOffset.UtcNow;
        var catalog = new ResourceCatalog(node, resources, [], []);
        var diagnostics = new DiagnosticBag();
        var specs = RunPreparer.ParseSpecs(catalog, BuiltInProviders.Registry(), diagnostics);
        var graph = ResourceGraph.Build(catalog, _ => [], diagnostics);
        if (graph is null || diagnostics.HasErrors)
        {
            // A bug, not a user error: the resources were built by converge itself.
            foreach (var d in diagnostics.Sorted()) Console.Error.WriteLine($"converge: internal error: {d.Message}");
            return ExitCodes.ManifestError;
        }
        var run = new PreparedRun(catalog, graph, specs);

        var stateDir = settings.EffectiveStateDir;
        var locked = StateLock.Acquire(settings, LockTimeout, previewWithout: false, log, ct);
        if (locked.ExitCode is { } lockFailed) return lockFailed;
        var runLock = locked.Lock!;

        using (runLock)
        {
            var (user, sudoUser) = RunContext.CurrentUser();
            var context = new RunContext(RunContext.NewRunId(started), Environment.MachineName, user, sudoUser, label, null, started);
            var bucket = new FileBucket(Path.Combine(stateDir, "bucket")) { RunId = context.RunId };
            var providerContext = new ProviderContext(new LocalSystem(), bucket, run.ManagedPaths);
            var order = graph.Order;
            var renderer = new ConsoleRenderer(Console.Out, order, settings.Color, showUnchanged: settings.Verbosity > 0, ManifestPipeline.DisplayPath);
            if (!Json)
            {
                Console.Out.WriteLine($"{(noop ? "Noop run" : "Run")}: {label}");
                foreach (var note in Notes) Console.Out.WriteLine("  " + note);
            }
            var engine = new RunEngine(providerContext, RefreshJournal.InMemory(), Redactor.None);
            var result = await engine.RunAsync(run, new RunOptions { Noop = noop, RunId = context.RunId },
                Json ? new NullObserver() : renderer, ct);
            var finished = DateTimeOffset.UtcNow;
            void WriteReport(Stream stream) => RunReport.Write(stream, context, node, result, finished, extra: extra);
            string? reportPath = null;
            var previousRevision = Commands.ApplyNotifications.PreviousRevision(notify, stateDir, stateWritable: true);
            try
            {
                reportPath = Reports(stateDir, config.Retention).Save(context, WriteReport, result, finished);
                if (!noop) PruneBucket(stateDir, finished, config.Retention);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Error("Could not write the run report to {StateDir}: {Message}", stateDir, e.Message);
            }
            var notifications = Commands.ApplyNotifications.Start(notify, context, node, result, finished, previousRevision, log, Kind);
            if (Json)
            {
                Console.Out.Flush();
                using var stdout = Console.OpenStandardOutput();
                if (reportPath is not null)
                    using (var saved = File.OpenRead(reportPath)) saved.CopyTo(stdout);
                else WriteReport(stdout);
            }
            else
            {
                renderer.Summary(result);
                if (!noop) Console.Out.WriteLine($"run id {context.RunId} (undo it with: converge undo {context.RunId})");
            }
            await notifications.WaitAsync();
            return result.ExitCode;
        }
    }

    /// <summary>The report store of <paramref name="stateDir"/>, pruning as <c>retention.reports</c> says.</summary>
    public static ReportStore Reports(string stateDir, Notify.RetentionConfig retention)
        => new(stateDir) { Keep = retention.ReportsKeep, MaxAge = retention.ReportsMaxAge };

    /// <summary>
    /// Bounds the bucket after a run (with the lock held) as <c>retention.bucket</c> says. The runs of the
    /// newest reports are protected: those are the runs <c>converge undo</c> is most likely asked about.
    /// <paramref name="runWithoutReport"/> is a run whose report is saved only after the prune (the agent's):
    /// it is protected as one of the newest, and it pushes the oldest report's run out as its save will.
    /// </summary>
    public static void PruneBucket(string stateDir, DateTimeOffset now, Notify.RetentionConfig retention, string? runWithoutReport = null)
    {
        var newest = new ReportHistory(stateDir).RunIds();
        var protectedRuns = (runWithoutReport is null ? newest : newest.Prepend(runWithoutReport))
            .Take(Math.Min(ProtectedRuns, retention.ReportsKeep)).ToHashSet(StringComparer.Ordinal);
        var limits = new BucketRetention
        {
            KeepPerPath = retention.BucketVersionsPerPath, MaxAge = retention.BucketMaxAge, MaxBytes = retention.BucketMaxSize,
        };
        limits.Prune(Path.Combine(stateDir, "bucket"), now, protectedRuns);
    }

    /// <summary>
    /// How many of the newest runs' bucket entries retention never prunes. A fixed number rather than
    /// <c>retention.reports.keep</c>: protecting 200 runs would let the bucket outgrow <c>max_size</c>.
    /// Fewer are protected when fewer reports are kept, since only runs with a report count.
    /// </summary>
    public const int ProtectedRuns = 20;

    private sealed class NullObserver : IRunObserver
    {
        public void ResourceFinished(ResourceOutcome outcome) { }
    }
}
