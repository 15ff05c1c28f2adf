using System.Text.Json.Nodes;
using Converge.Engine;
using Converge.Machine;
using Converge.Notify;
using Converge.Reporting;
using Serilog;

namespace Converge.Agent;

/// <summary>A run that did not return within the run timeout plus a grace: the agent process must end to stop it.</summary>
public sealed class RunHungException(string message) : Exception(message);

/// <summary>
/// One agent cycle: check the disable mark, fetch, pick the revision, load and compile it (falling back
/// to the last good revision if it is broken or refused), converge under the run lock, write the report,
/// last_run.json and metrics. Returns the cycle's exit code (docs/exit-codes.md).
/// </summary>
public sealed class AgentCycle
{
    /// <summary>
    /// How long past the run timeout a run may take to stop by itself (its running resource finishing)
    /// before it counts as hung: the run timeout itself, but at least 5 s and at most 30 s.
    /// </summary>
    public static TimeSpan HungGrace(TimeSpan runTimeout)
        => TimeSpan.FromSeconds(Math.Clamp(runTimeout.TotalSeconds, 5, 30));

    private readonly AgentOptions _options;
    private readonly IManifestRunner _runner;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly GitSource _git;
    private readonly AgentState _state;
    private readonly ReportStore _store;
    private DateTimeOffset? _lastSuccess;

    public AgentCycle(AgentOptions options, IManifestRunner runner, ILogger log, TimeProvider time)
    {
        _options = options;
        _runner = runner;
        _log = log;
        _time = time;
        _git = new GitSource(options);
        _state = AgentState.Load(options.StateDir);
        _store = new ReportStore(options.StateDir) { Keep = options.KeepReports, MaxAge = options.KeepAge };
    }

    public AgentState State => _state;

    /// <summary>Runs one cycle. Cancelling <paramref name="stopping"/> (SIGTERM) lets the running resource finish, skips the rest and still writes the report.</summary>
    public async Task<int> RunAsync(CancellationToken stopping)
    {
        var started = _time.GetUtcNow();
        if (_state.Disabled() is { } mark)
        {
            _log.Warning("Agent disabled by {By} since {Since:u}: {Reason}; skipping this run ('converge agent enable' turns it back on)",
                mark.By, mark.Since, mark.Reason);
            RecordDisabled(mark, started);
            return ExitCodes.Ok;
        }

        var fetchError = await _git.FetchAsync(stopping);
        if (fetchError is not null)
            _log.Warning("Cannot fetch {Source}: {Error}; converging the cached revision", _options.Source, fetchError);
        var wanted = await _git.ResolveAsync(stopping);
        if (wanted is null)
        {
            var why = fetchError is not null
                ? $"nothing to converge: cannot fetch {_options.Source} ({fetchError}) and no revision is cached"
                : $"nothing to converge: {_options.Revision ?? "branch " + _options.Branch} not found in {_options.Source}";
            _log.Error("{Why}", why);
            RecordFailure(null, Environment.MachineName, [why], ExitCodes.Failures, started, Info(null, null, fetchError, null));
            return ExitCodes.Failures;
        }

        var revision = await _git.DescribeAsync(wanted, stopping);
        var (loaded, refusal, errors) = await PrepareAsync(revision, stopping);
        if (loaded is not null)
        {
            var fallback = fetchError is null ? null : $"source unavailable ({fetchError}); converged the cached revision";
            return await ConvergeAsync(revision, loaded, Info(fallback, null, fetchError, null), fallback, isGood: true, started, stopping);
        }

        // The wanted revision is broken (or refused): record that, then keep the host on the last good one.
        _log.Error("Revision {Commit} (author {Author}, '{Subject}') {Refusal}; keeping the last good revision {LastGood}:\n{Errors}",
            revision.Short, DeployLog.AuthorName(revision.Author), revision.Subject, refusal, DeployLog.Short(_state.LastGood), string.Join("\n", errors));
        var badInfo = Info(null, revision, fetchError, refusal);
        RecordFailure(revision, Environment.MachineName, errors, ExitCodes.ManifestError, started, badInfo);
        if (_state.LastGood is null || _state.LastGood == wanted)
        {
            _log.Error("No good revision to fall back to; nothing was changed");
            return ExitCodes.ManifestError;
        }

        var good = await _git.DescribeAsync(_state.LastGood, stopping);
        var (goodLoaded, goodRefusal, goodErrors) = await PrepareAsync(good, stopping, verify: false);
        if (goodLoaded is null)
        {
            _log.Error("The last good revision {Commit} no longer loads either ({Refusal}); nothing was changed:\n{Errors}",
                good.Short, goodRefusal, string.Join("\n", goodErrors));
            RecordFailure(good, Environment.MachineName, goodErrors, ExitCodes.ManifestError, _time.GetUtcNow(), Info(null, revision, fetchError, refusal));
            return ExitCodes.ManifestError;
        }
        var reason = $"fell back to the last good revision: {revision.Short} {refusal}";
        var code = await ConvergeAsync(good, goodLoaded, Info(reason, revision, fetchError, refusal), reason, isGood: false, _time.GetUtcNow(), stopping);
        // The host converged, but not to what was committed: the deployment failed, like a broken `converge apply`.
        return code == ExitCodes.Ok || code == ExitCodes.Changes ? ExitCodes.ManifestError : code;
    }

    /// <summary>Verifies (if asked), exports and loads a revision: the loaded manifests, or why not.</summary>
    private async Task<(LoadedManifests? Loaded, string? Refusal, IReadOnlyList<string> Errors)> PrepareAsync(Revision revision, CancellationToken ct, bool verify = true)
    {
        if (verify && _options.VerifySignatures && await _git.VerifyAsync(revision.Commit!, ct) is { } unsigned)
            return (null, "is refused (signature)", [unsigned]);
        var dir = await _git.ExportAsync(revision.Commit!, ct);
        var loaded = _runner.Load(ManifestPath(dir));
        // Paths relative to the repository, as the committer knows them (site.yaml:3:5), not to the export directory.
        var prefix = dir.TrimEnd('/') + "/";
        if (!loaded.Ok)
            return (null, "does not load", loaded.Errors.Count > 0
                ? loaded.Errors.Select(e => e.Replace(prefix, "", StringComparison.Ordinal)).ToList()
                : ["the manifests did not load"]);
        return (loaded, null, []);
    }

    private string ManifestPath(string exportDir) => Path.GetFullPath(Path.Combine(exportDir, _options.Path));

    private async Task<int> ConvergeAsync(Revision revision, LoadedManifests loaded, JsonObject info, string? fallback, bool isGood,
        DateTimeOffset started, CancellationToken stopping)
    {
        RunLock runLock;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_options.LockPath)!);
            runLock = await Task.Run(() => RunLock.Acquire(_options.LockPath, _options.LockTimeout, stopping), CancellationToken.None);
        }
        catch (RunLockTimeoutException e)
        {
            _log.Error("Cannot converge {Commit}: {Message}", revision.Short, e.Message);
            RecordFailure(revision, loaded.Node, [e.Message], ExitCodes.Failures, started, info);
            return ExitCodes.Failures;
        }
        catch (OperationCanceledException)
        {
            _log.Information("Stopping while waiting for the run lock; nothing was changed");
            return ExitCodes.Ok;
        }

        var hung = false;
        try
        {
            var (user, sudoUser) = RunContext.CurrentUser();
            var context = new RunContext(RunContext.NewRunId(started), Environment.MachineName, user, sudoUser,
                ManifestPath(Path.Combine(_git.RevisionsDir, revision.Commit!)), revision, started);
            using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            run.CancelAfter(_options.RunTimeout);
            var task = Task.Run(() => _runner.RunAsync(loaded, context.RunId, _options.Noop, Observe, run.Token), CancellationToken.None);
            var limit = Task.Delay(_options.RunTimeout + HungGrace(_options.RunTimeout), _time, stopping);
            if (await Task.WhenAny(task, limit) == limit && !task.IsCompleted && !stopping.IsCancellationRequested)
            {
                hung = true;
                var why = $"the run of {revision.Short} did not stop within {Durations.Format(_options.RunTimeout + HungGrace(_options.RunTimeout))} (run timeout {Durations.Format(_options.RunTimeout)}); ending the agent so the service manager restarts it";
                RecordFailure(revision, loaded.Node, [why], ExitCodes.Failures, started, info);
                throw new RunHungException(why);
            }
            var result = await task;
            var timedOut = run.IsCancellationRequested && !stopping.IsCancellationRequested;
            var finished = _time.GetUtcNow();
            var line = DeployLog.Line(loaded.Node, revision, _state.LastConverged, result, fallback, timedOut);
            var previous = _state.LastConverged;
            info["previous"] = previous;
            info["timedOut"] = timedOut;
            info["summary"] = line;
            var extra = LastRunExtra(info);
            _store.Save(context, s => RunReport.Write(s, context, loaded.Node, result, finished, info), result, finished, extra);
            // In the background while the state, metrics and exports are written; waited for (within its deadline) below.
            var notifications = _options.Notify.IsEmpty
                ? NotifyDispatcher.Pending.None
                : NotifyDispatcher.Start(_options.Notify, RunNotice.FromRun(context, loaded.Node, result, finished, previous), _log);
            if (result.Summary.Failed > 0 || result.Interrupted) _log.Warning("{DeployLine}", line);
            else _log.Information("{DeployLine}", line);
            if ((result.ExitCode & ExitCodes.Failures) == 0) _lastSuccess = finished;
            _state.Record(
                lastGood: isGood ? revision.Commit : _state.LastGood,
                lastConverged: result.Noop ? _state.LastConverged : revision.Commit);
            WriteMetrics();
            _git.PruneExports([_state.LastGood, _state.LastConverged]);
            await notifications.WaitAsync();
            return result.ExitCode;
        }
        finally
        {
            // A hung run still owns the machine: keep the lock until the process exits (the kernel drops it then).
            if (!hung) runLock.Dispose();
        }
    }

    private void Observe(ResourceOutcome o)
    {
        var status = RunReport.StatusName(o.Status);
        if (o.Status is OutcomeStatus.Failed)
            _log.Warning("{Resource} {Status}: {Message}", o.Id.ToString(), status, o.Message);
        else if (o.Status is OutcomeStatus.Changed or OutcomeStatus.WouldChange)
            _log.Information("{Resource} {Status} ({Changes})", o.Id.ToString(), status, string.Join(", ", o.Changes.Select(c => c.Property)));
        else
            _log.Debug("{Resource} {Status} in {DurationMs:0.0} ms{Message}", o.Id.ToString(), status, o.Duration.TotalMilliseconds,
                o.Message is null ? "" : ": " + o.Message);
    }

    /// <summary>The report's <c>agent</c> block: where the revision came from and whether it is the one wanted.</summary>
    private JsonObject Info(string? fallback, Revision? badRevision, string? fetchError, string? refusal) => new()
    {
        ["source"] = _options.Source,
        ["branch"] = _options.Branch,
        ["pinnedRevision"] = _options.Revision,
        ["fallback"] = fallback is not null,
        ["fallbackReason"] = fallback,
        ["badRevision"] = badRevision?.Commit,
        ["badRevisionReason"] = refusal,
        ["sourceUnavailable"] = fetchError is not null,
        ["fetchError"] = fetchError,
    };

    private static JsonObject LastRunExtra(JsonObject info) => new()
    {
        ["agent"] = true,
        ["fallback"] = info["fallback"]?.DeepClone(),
        ["fallbackReason"] = info["fallbackReason"]?.DeepClone(),
        ["badRevision"] = info["badRevision"]?.DeepClone(),
        ["sourceUnavailable"] = info["sourceUnavailable"]?.DeepClone(),
        ["previousRevision"] = info["previous"]?.DeepClone(),
        ["summary"] = info["summary"]?.DeepClone(),
        ["disabled"] = null,
    };

    /// <summary>A cycle that ended before the engine: a report with the errors, and last_run.json saying so.</summary>
    public void RecordFailure(Revision? revision, string node, IReadOnlyList<string> errors, int exitCode, DateTimeOffset started, JsonObject info)
    {
        var (user, sudoUser) = RunContext.CurrentUser();
        var manifest = revision?.Commit is { } c ? ManifestPath(Path.Combine(_git.RevisionsDir, c)) : _options.Source;
        var context = new RunContext(RunContext.NewRunId(started), Environment.MachineName, user, sudoUser, manifest, revision, started);
        var finished = _time.GetUtcNow();
        info["summary"] ??= revision is null
            ? $"run failed on {node}: {errors.FirstOrDefault()}"
            : $"revision {revision.Short} (author {DeployLog.AuthorName(revision.Author)}, '{revision.Subject}') not converged on {node}: {info["badRevisionReason"] ?? "failed"}";
        try
        {
            _store.SaveFailure(context, s => RunReport.WriteFailure(s, context, node, errors, exitCode, finished, info), exitCode, finished,
                WithErrors(LastRunExtra(info), errors));
            WriteMetrics();
            // A broken revision is what a failures webhook is for. Waiting here (bounded by the deadline) keeps
            // this method synchronous for its callers; the cycle is on a thread of its own.
            if (!_options.Notify.IsEmpty)
                NotifyDispatcher.Start(_options.Notify, RunNotice.FromFailure(context, node, errors, exitCode, finished, _state.LastConverged), _log)
                    .WaitAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("Could not write the run report to {StateDir}: {Message}", _options.StateDir, e.Message);
        }
    }

    /// <summary>Records a cycle that threw unexpectedly (a bug, or the machine in a state we did not foresee).</summary>
    public void RecordCrash(Exception e, DateTimeOffset started)
        => RecordFailure(null, Environment.MachineName, ["unexpected error: " + e.Message], ExitCodes.Failures, started, Info(null, null, null, null));

    private static JsonObject WithErrors(JsonObject extra, IReadOnlyList<string> errors)
    {
        extra["errors"] = new JsonArray(errors.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray());
        return extra;
    }

    private void RecordDisabled(DisabledMark mark, DateTimeOffset now)
    {
        var last = _store.ReadLastRun() ?? new JsonObject { ["formatVersion"] = 1 };
        last["disabled"] = new JsonObject { ["reason"] = mark.Reason, ["by"] = mark.By, ["since"] = mark.Since.ToString("O") };
        last["skippedAt"] = now.ToString("O");
        _store.WriteLastRun(last);
        WriteMetrics();
    }

    private void WriteMetrics()
    {
        if (_options.MetricsDir is null) return;
        try
        {
            if (_store.ReadLastRun() is { } last) Metrics.Write(_options.MetricsDir, last, _lastSuccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Could not write metrics to {MetricsDir}: {Message}", _options.MetricsDir, e.Message);
        }
    }
}
