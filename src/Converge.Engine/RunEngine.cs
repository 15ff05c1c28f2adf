using System.Collections.Concurrent;
using System.Diagnostics;
using Converge.Compiler.Catalog;
using Converge.Engine.Plans;
using Converge.Graph;
using Converge.Providers.Contract;

namespace Converge.Engine;

public sealed record RunOptions
{
    /// <summary>Plan only: read and diff every resource, change nothing (the journal is read, not written).</summary>
    public bool Noop { get; init; }

    /// <summary>Limit the run to these resources (e.g. chosen by <c>--tags</c>); null runs all.</summary>
    public IReadOnlySet<ResourceId>? Selection { get; init; }

    public string RunId { get; init; } = "";

    /// <summary>
    /// How many resources may be read (and, for providers that allow it, applied) at once. Applies of
    /// other providers run one at a time.
    /// </summary>
    public int MaxConcurrency { get; init; } = 64;

    /// <summary>
    /// Sees each resource after its read and diff, before its apply, and may fail it instead (reviewed
    /// plans: docs/plans.md). Null: every resource goes on.
    /// </summary>
    public IResourceGate? Gate { get; init; }
}

/// <summary>Live events of a run. Called from several threads; outcomes arrive in completion order.</summary>
public interface IRunObserver
{
    void ResourceFinished(ResourceOutcome outcome);
}

/// <summary>
/// Plans and applies a prepared run: each resource is read and diffed as soon as everything it depends
/// on is done (reads run concurrently), its changes applied (one resource at a time unless its provider
/// allows concurrent applies), refreshes delivered
/// along notify/subscribe edges and journaled so none is lost. A failure skips only its dependents.
/// Cancellation stops starting resources; one that has begun is allowed to finish.
/// </summary>
public sealed class RunEngine(ProviderContext context, RefreshJournal journal, Redactor redactor)
{
    private readonly SemaphoreSlim _applyGate = new(1, 1);

    public async Task<RunResult> RunAsync(PreparedRun run, RunOptions options, IRunObserver observer, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var graph = run.Graph;
        var selected = options.Selection;
        var order = graph.Order.Where(id => selected is null || selected.Contains(id)).ToList();

        var pendingRefresh = new ConcurrentDictionary<ResourceId, ConcurrentBag<string>>();
        foreach (var e in journal.Pending)
            if (ResourceId.TryParse(e.Target, out var target) && run.Resources.ContainsKey(target))
                pendingRefresh.GetOrAdd(target, _ => []).Add($"{e.Source} (pending since run {e.RunId})");

        // A resource whose result (or a transitive dependency's) is a pending change, for --noop's "unknown".
        var pendingUpstream = new ConcurrentDictionary<ResourceId, ResourceId>();
        var outcomes = new ConcurrentDictionary<ResourceId, ResourceOutcome>();
        var tasks = new Dictionary<ResourceId, Task>(order.Count);
        var prefetched = await PrefetchAsync(run, order).ConfigureAwait(false);
        using var gate = new SemaphoreSlim(options.MaxConcurrency);

        foreach (var id in order)
        {
            var deps = graph.Incoming(id)
                .Where(e => tasks.ContainsKey(e.From))
                .Select(e => tasks[e.From])
                .Distinct()
                .ToArray();
            tasks[id] = RunOneAsync(id, deps);
        }
        try
        {
            await Task.WhenAll(tasks.Values).ConfigureAwait(false);
        }
        finally
        {
            if (!options.Noop) context.System.SyncDirectories();
        }

        var ordered = order.Select(id => outcomes[id]).ToList();
        return new RunResult(ordered, options.Noop, ct.IsCancellationRequested, clock.Elapsed);

        async Task RunOneAsync(ResourceId id, Task[] deps)
        {
            if (deps.Length > 0) await Task.WhenAll(deps).ConfigureAwait(false);
            await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            ResourceOutcome outcome;
            try
            {
                outcome = await ConvergeAsync(id).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
            outcomes[id] = outcome;
            observer.ResourceFinished(outcome);
        }

        async Task<ResourceOutcome> ConvergeAsync(ResourceId id)
        {
            var prepared = run.Resources[id];
            var spec = prepared.Spec;
            var provider = prepared.Provider;
            var source = prepared.Resource.Span;
            var watch = Stopwatch.StartNew();
            ResourceOutcome Done(OutcomeStatus status, IReadOnlyList<Change> changes, string? message = null)
                => new(id, status, redactor.Redact(spec, changes), watch.Elapsed, source) { Message = redactor.Scrub(message) };

            // Dependencies first: a failed or skipped one means this one must not run.
            foreach (var e in graph.Incoming(id))
            {
                if (!outcomes.TryGetValue(e.From, out var dep)) continue; // outside the selection
                if (dep.Status is OutcomeStatus.Failed or OutcomeStatus.Skipped && e.Kind != EdgeKind.Serial)
                    return Done(OutcomeStatus.Skipped, [], $"dependency {e.From} {(dep.Status == OutcomeStatus.Failed ? "failed" : "was skipped")}");
                if (dep.IsChange) pendingUpstream.TryAdd(id, e.From);
                else if (pendingUpstream.TryGetValue(e.From, out var far)) pendingUpstream.TryAdd(id, far);
                // In a real run only an applied change refreshes; a `noop: true` resource that would
                // change did not, so its subscribers must not restart. In --noop, any pending change would.
                if (e.Refreshes && (options.Noop ? dep.IsChange : dep.Status == OutcomeStatus.Changed))
                    pendingRefresh.GetOrAdd(id, _ => []).Add(e.From.ToString());
            }
            if (ct.IsCancellationRequested)
                return Done(OutcomeStatus.Skipped, [], "run interrupted before this resource started");

            var noop = options.Noop || prepared.Resource.Noop;
            var refreshSources = pendingRefresh.TryGetValue(id, out var bag)
                ? bag.Distinct().Order(StringComparer.Ordinal).ToList()
                : [];
            var wantsRefresh = refreshSources.Count > 0 && provider.IsRefreshable;

            if (options.Noop && pendingUpstream.TryGetValue(id, out var upstream) && provider.ReadDependsOnUpstream(spec))
            {
                return Done(OutcomeStatus.Unknown, [], $"depends on pending change to {upstream}") with
                {
                    RefreshedBy = refreshSources,
                    Refreshed = wantsRefresh,
                    RefreshChanges = wantsRefresh ? redactor.Redact(spec, provider.PlanRefresh(spec)) : [],
                };
            }

            object actual;
            IReadOnlyList<Change> changes;
            try
            {
                // A batched read is stale once something upstream changed (or would): read again then.
                actual = prefetched.TryGetValue(id, out var early) && !pendingUpstream.ContainsKey(id)
                    ? early
                    : await provider.ReadAsync(spec, context, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Done(OutcomeStatus.Failed, [], "could not read actual state: " + ex.Message);
            }
            try
            {
                changes = provider.Diff(spec, actual);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The actual state is known but cannot be brought to the desired one (e.g. a line's
                // `match` hits several lines): the provider's message says why.
                return Done(OutcomeStatus.Failed, [], ex.Message);
            }

            var refreshTargets = graph.Outgoing(id).Where(e => e.Refreshes).Select(e => e.To.ToString()).Distinct().ToList();

            // A resource whose changes do what the refresh would needs no separate refresh (a started service
            // is not restarted); otherwise the refresh follows the changes (an enabled service is restarted).
            var refreshDue = wantsRefresh && !provider.ChangesCoverRefresh(spec, changes);

            if (options.Gate is { } resourceGate)
            {
                var shown = redactor.Redact(spec, changes);
                if (resourceGate.Check(new ReadResource(id, prepared, actual, changes, shown, refreshDue, pendingUpstream.ContainsKey(id))) is { } refusal)
                    return Done(OutcomeStatus.Failed, changes, refusal) with { RefreshedBy = refreshSources };
            }

            if (noop)
            {
                if (changes.Count == 0 && !wantsRefresh)
                    return Done(OutcomeStatus.Unchanged, []) with { RefreshedBy = refreshSources };
                return Done(OutcomeStatus.WouldChange, changes) with
                {
                    RefreshedBy = refreshSources,
                    Refreshed = refreshDue,
                    RefreshChanges = refreshDue ? redactor.Redact(spec, provider.PlanRefresh(spec)) : [],
                };
            }

            if (changes.Count == 0 && !wantsRefresh)
            {
                if (refreshSources.Count > 0) journal.Delivered(id.ToString()); // not refreshable: nothing to deliver
                return Done(OutcomeStatus.Unchanged, []) with { RefreshedBy = refreshSources };
            }

            var exclusive = !provider.ConcurrentApply;
            if (exclusive) await _applyGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            // Path resources record what stood at the path before and after, for the report and undo.
            var pathResource = changes.Count > 0 ? provider as IPathResource : null;
            PathState? before = Capture(pathResource, spec);
            try
            {
                // Journal first: if we die after the change but before the refresh, the next run delivers it.
                if (refreshTargets.Count > 0) journal.Add(id.ToString(), refreshTargets, options.RunId);
                if (changes.Count > 0)
                    await provider.ApplyAsync(spec, actual, changes, context, CancellationToken.None).ConfigureAwait(false);
                IReadOnlyList<Change> refreshChanges = [];
                if (refreshDue)
                {
                    refreshChanges = provider.PlanRefresh(spec);
                    await provider.RefreshAsync(spec, context, CancellationToken.None).ConfigureAwait(false);
                }
                if (refreshSources.Count > 0) journal.Delivered(id.ToString());
                return Done(OutcomeStatus.Changed, changes) with
                {
                    RefreshedBy = refreshSources,
                    Refreshed = refreshChanges.Count > 0 || refreshDue,
                    RefreshChanges = redactor.Redact(spec, refreshChanges),
                    Before = redactor.Redact(spec, before),
                    After = redactor.Redact(spec, Capture(pathResource, spec)),
                };
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return Done(OutcomeStatus.Failed, changes, ex.Message) with
                {
                    RefreshedBy = refreshSources,
                    Before = redactor.Redact(spec, before),
                    After = redactor.Redact(spec, Capture(pathResource, spec)),
                };
            }
            finally
            {
                if (exclusive) _applyGate.Release();
            }
        }
    }

    /// <summary>The state at the resource's path now; null for other resources, or when it cannot be read (the apply reports that).</summary>
    private PathState? Capture(IPathResource? resource, ResourceSpec spec)
    {
        if (resource is null) return null;
        try
        {
            return PathState.Read(resource.PathOf(spec), context.System, resource.ContentIsSensitive(spec));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// One <see cref="IBatchedReader.ReadManyAsync"/> per batching provider, for the selected resources,
    /// before any resource starts. A batch that fails is ignored: each resource then reads (and fails) alone.
    /// </summary>
    private async Task<IReadOnlyDictionary<ResourceId, object>> PrefetchAsync(PreparedRun run, IReadOnlyList<ResourceId> order)
    {
        var result = new Dictionary<ResourceId, object>();
        var batches = order.Select(id => run.Resources[id])
            .Where(r => r.Provider is IBatchedReader)
            .GroupBy(r => r.Provider);
        foreach (var batch in batches)
        {
            try
            {
                var specs = batch.Select(r => r.Spec).ToList();
                var read = await ((IBatchedReader)batch.Key).ReadManyAsync(specs, context, CancellationToken.None).ConfigureAwait(false);
                foreach (var (id, actual) in read) result[id] = actual;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Deliberately swallowed: the single reads that follow report the error per resource.
            }
        }
        return result;
    }
}
