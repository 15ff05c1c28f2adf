using Converge.Engine;
using Converge.Engine.Plans;
using Converge.Machine;
using Converge.Providers.Contract;
using Converge.Reporting;
using Converge.Reporting.Plans;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge apply [--noop] [PATH]</c>: validate everything, take the run lock, plan and (unless
/// --noop) apply, write the report, print the human view or the JSON report, exit with the detailed code.
/// </summary>
public sealed class ApplyCommand(Settings settings, string path, ApplySettings apply)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var log = Logging.Create(settings);
        var started = DateTimeOffset.UtcNow; // reports are in UTC: hosts in many time zones read the same way
        if (ApplyPlan.UsageError(apply) is { } usage)
        {
            Console.Error.WriteLine($"converge: {usage}");
            return ExitCodes.Usage;
        }
        (PlanDocument Plan, PlanReference Reference)? reviewed = null;
        if (apply.PlanIn is { } planPath && (reviewed = ApplyPlan.Read(planPath, apply.PlanMaxAge, started)) is null)
            return ExitCodes.ManifestError;
        var tags = reviewed?.Plan.Tags ?? apply.Tags;
        if (ReadVarsFile(apply.VarsFile) is not { } extraVars)
            return ExitCodes.ManifestError;
        if (ApplyNotifications.LoadConfig(apply.ConfigFile) is not { } config)
            return ExitCodes.Usage;
        var notify = config.Notify;
        var pipeline = new ManifestPipeline(settings, log) { ExtraVars = extraVars };
        if (pipeline.LoadValid(path) is not { Run: { } run } loaded)
            return ExitCodes.ManifestError;

        IReadOnlySet<Compiler.Catalog.ResourceId>? selection = null;
        if (tags.Count > 0)
        {
            selection = run.Graph.SelectByTags(tags);
            if (selection.Count == 0)
                log.Warning("No resource has any of the tags {Tags}; nothing to do", string.Join(",", tags));
        }

        var stateDir = settings.EffectiveStateDir;
        var locked = StateLock.Acquire(settings, apply.LockTimeout, previewWithout: apply.Noop, log, ct);
        if (locked.ExitCode is { } lockFailed) return lockFailed;
        var (runLock, stateWritable) = (locked.Lock, locked.StateWritable);

        using (runLock)
        {
            var (user, sudoUser) = RunContext.CurrentUser();
            var context = new RunContext(RunContext.NewRunId(started), Environment.MachineName, user, sudoUser,
                Path.GetFullPath(path), RevisionProbe.Probe(path), started) { Operator = apply.Operator, Plan = reviewed?.Reference };
            PlanRecorder? recorder = null;
            if (apply.PlanOut is not null || reviewed is not null)
            {
                try
                {
                    recorder = new PlanRecorder(new StateDigest(PlanKey.LoadOrCreate(stateDir)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"converge: cannot use the plan key in {stateDir}: {e.Message} (run as root, or pass --state-dir); nothing was changed");
                    return ExitCodes.Failures;
                }
            }
            var redactor = new Redactor(run.Catalog.SecretValues);
            // --noop reads the journal (to show refreshes still owed) but the engine never writes it in a noop run.
            var journal = stateWritable
                ? RefreshJournal.Open(Path.Combine(stateDir, "refresh-journal.json"))
                : RefreshJournal.InMemory();
            var system = new LocalSystem();
            var providerContext = new ProviderContext(system, new FileBucket(Path.Combine(stateDir, "bucket")) { RunId = context.RunId }, run.ManagedPaths);
            var order = run.Graph.Order.Where(id => selection is null || selection.Contains(id)).ToList();

            var human = !apply.Json && !apply.EventsJsonl;
            var renderer = new ConsoleRenderer(Console.Out, order, settings.Color, showUnchanged: settings.Verbosity > 0, ManifestPipeline.DisplayPath);
            IRunObserver? view = apply.EventsJsonl ? new EventLineObserver(order.Count) : human ? renderer : null;
            IRunObserver observer = new LoggingObserver(log, view);
            if (human) renderer.Header(loaded.Node, context, apply.Noop);
            if (human && reviewed is { } r) Console.Out.WriteLine($"Reviewed plan {r.Plan.PlanId} from {apply.PlanIn} ({r.Reference.Digest})");
            if (apply.EventsJsonl)
                EventLineObserver.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
                {
                    @event = "start", runId = context.RunId, node = loaded.Node, noop = apply.Noop, total = order.Count,
                }));

            var engine = new RunEngine(providerContext, journal, redactor);
            // Say at once that the interrupt was seen: the running resource may take a while to finish.
            using var interrupted = ct.Register(() => Console.Error.WriteLine(
                "converge: interrupted: letting the running resource finish, skipping the rest, then writing the report"));
            RunResult result;
            string? planNote = null;
            if (reviewed is { } plan)
            {
                // Check first, touching nothing: the plan computed now must be the reviewed one. Then apply,
                // each resource guarded against what may still change between the check and its apply.
                var check = await engine.RunAsync(run, new RunOptions { Noop = true, Selection = selection, RunId = context.RunId, Gate = recorder },
                    apply.Noop ? observer : new LoggingObserver(log, null), ct);
                if (check.Interrupted)
                {
                    Console.Error.WriteLine("converge: interrupted while checking the plan; nothing was changed");
                    return ExitCodes.Failures;
                }
                var drift = PlanCheck.Drift(plan.Plan, recorder!.Build(run, check, context, loaded.Node, tags));
                if (drift.Count > 0)
                {
                    if (human && apply.Noop) renderer.Summary(check);
                    ApplyPlan.PrintRefusal(apply.PlanIn!, plan.Plan, drift);
                    if (stateWritable && !apply.Noop) ApplyPlan.SaveRefusal(stateDir, context, loaded.Node, drift, config.Retention, log);
                    return ExitCodes.ManifestError;
                }
                if (apply.Noop) planNote = $"Reviewed plan {plan.Plan.PlanId} still holds: 'converge apply --plan {apply.PlanIn}' would make exactly its changes";
                result = apply.Noop ? check
                    : await new RunEngine(providerContext, journal, redactor).RunAsync(run, new RunOptions
                    {
                        Selection = selection, RunId = context.RunId, Gate = new PlanCheck.Enforcer(plan.Plan, recorder.Digest),
                    }, observer, ct);
            }
            else result = await engine.RunAsync(run, new RunOptions { Noop = apply.Noop, Selection = selection, RunId = context.RunId, Gate = recorder }, observer, ct);
            if (apply.PlanOut is { } outPath)
            {
                var saved = recorder!.Build(run, result, context, loaded.Node, tags);
                try
                {
                    ApplyPlan.Save(outPath, saved);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"converge: --out {outPath}: {e.Message}");
                    return ExitCodes.Failures;
                }
                planNote = $"Plan {saved.PlanId} saved to {outPath}: review it, then 'converge apply --plan {outPath}'";
            }

            var finished = DateTimeOffset.UtcNow;
            log.Debug("Ran {Count} resources in {Elapsed:0.0} ms ({AllocatedMb:0} MB allocated so far)",
                result.Outcomes.Count, result.Duration.TotalMilliseconds, GC.GetTotalAllocatedBytes() / 1048576.0);
            void WriteReport(Stream stream) => RunReport.Write(stream, context, loaded.Node, result, finished);
            string? reportPath = null;
            var previousRevision = ApplyNotifications.PreviousRevision(notify, stateDir, stateWritable);
            try
            {
                if (stateWritable) reportPath = Undo.ResourceRun.Reports(stateDir, config.Retention).Save(context, WriteReport, result, finished);
                // After the report, so this run counts among the newest runs whose backups are kept.
                if (stateWritable && !apply.Noop) Undo.ResourceRun.PruneBucket(stateDir, finished, config.Retention);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Error("Could not write the run report to {StateDir}: {Message}", stateDir, e.Message);
            }
            // In the background while the report is printed; waited for (within its deadline) before returning.
            var notifications = ApplyNotifications.Start(notify, context, loaded.Node, result, finished, previousRevision, log);

            if (apply.EventsJsonl)
            {
                var line = new MemoryStream();
                line.Write("{\"event\":\"report\",\"report\":"u8);
                RunReport.Write(line, context, loaded.Node, result, finished, indented: false);
                line.SetLength(line.Length - 1); // the report's own newline ends the line after the closing brace
                line.Write("}"u8);
                EventLineObserver.WriteLine(System.Text.Encoding.UTF8.GetString(line.ToArray()));
            }
            else if (apply.Json)
            {
                Console.Out.Flush();
                using var stdout = Console.OpenStandardOutput();
                if (reportPath is not null)
                    using (var saved = File.OpenRead(reportPath)) saved.CopyTo(stdout);
                else WriteReport(stdout);
            }
            else renderer.Summary(result);
            if (human && planNote is not null) Console.Out.WriteLine(planNote);
            log.Debug("Report written to {Path}", reportPath);
            var gc = GC.GetGCMemoryInfo();
            log.Debug("Memory: working set {PeakMb:0} MB, GC heap {HeapMb:0} MB, allocated {AllocatedMb:0} MB, collections {Gen0}/{Gen1}/{Gen2}, GC pauses {PauseMs:0} ms",
                Environment.WorkingSet / 1048576.0, gc.HeapSizeBytes / 1048576.0, GC.GetTotalAllocatedBytes() / 1048576.0,
                GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration().TotalMilliseconds);
            await notifications.WaitAsync();
            return result.ExitCode;
        }
    }

    /// <summary>
    /// Reads <c>--vars-file</c>: one JSON object whose members become vars. Returns an empty map without
    /// the option, and null (after printing why) when the file is unreadable or not a JSON object.
    /// </summary>
    private static IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonNode?>? ReadVarsFile(string? path)
    {
        var vars = new Dictionary<string, System.Text.Json.Nodes.JsonNode?>(StringComparer.Ordinal);
        if (path is null) return vars;
        try
        {
            // A JSON error carries a line and byte position: say where, as manifest errors do.
            if (System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path)) is not System.Text.Json.Nodes.JsonObject obj)
            {
                Console.Error.WriteLine($"converge: --vars-file {path}: must hold one JSON object ({{\"name\": value, ...}}); nothing was changed");
                return null;
            }
            foreach (var (name, value) in obj) vars[name] = value?.DeepClone();
            return vars;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"converge: --vars-file {path}: {e.Message}; nothing was changed");
            return null;
        }
    }

    /// <summary>
    /// <c>--events jsonl</c>: each outcome as one JSON line on stdout, flushed at once so a reader at the
    /// other end of a pipe (converge ssh) sees progress while the run goes on.
    /// </summary>
    private sealed class EventLineObserver(int total) : IRunObserver
    {
        private static readonly Lock Gate = new();
        private int _done;

        public void ResourceFinished(ResourceOutcome outcome)
        {
            var done = Interlocked.Increment(ref _done);
            WriteLine(RunReport.ResourceEvent(outcome, done, total));
        }

        public static void WriteLine(string line)
        {
            lock (Gate)
            {
                Console.Out.Write(line + "\n");
                Console.Out.Flush();
            }
        }
    }

    /// <summary>Logs each outcome as a structured event (visible with -v), then hands it to the console view.</summary>
    private sealed class LoggingObserver(Serilog.ILogger log, IRunObserver? next) : IRunObserver
    {
        public void ResourceFinished(ResourceOutcome outcome)
        {
            log.Debug("{Resource} {Status} in {DurationMs:0.0} ms ({Changes} changes){Message}",
                outcome.Id.ToString(), RunReport.StatusName(outcome.Status), outcome.Duration.TotalMilliseconds,
                outcome.Changes.Count, outcome.Message is null ? "" : ": " + outcome.Message);
            next?.ResourceFinished(outcome);
        }
    }
}
