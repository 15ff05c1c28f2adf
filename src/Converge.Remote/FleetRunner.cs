namespace Converge.Remote;

/// <summary>How hosts are scheduled: how many at once, in which waves, how many failures stop the rest.</summary>
public sealed record FleetOptions
{
    /// <summary>Hosts converging at once (within a wave).</summary>
    public int Parallel { get; init; } = 10;

    /// <summary><c>--batch</c>: wave sizes (see <see cref="BatchPlan.Waves"/>); null for one wave.</summary>
    public string? Batch { get; init; }

    /// <summary><c>--max-fail</c>: once more hosts than this have failed, no later wave starts. Null: no limit.</summary>
    public BatchPlan.Amount? MaxFail { get; init; }
}

/// <summary>
/// Runs a host function over the fleet: waves in order, up to <see cref="FleetOptions.Parallel"/> hosts
/// at once inside a wave. One host's failure never stops another host of the same wave; after a wave,
/// failures beyond the budget leave the later waves not started. Cancellation (Ctrl-C) stops starting
/// hosts; hosts already running get it too (see <see cref="RemoteRun.RunAsync"/>) and are waited for. Every host gets exactly one result, in inventory order.
/// </summary>
public sealed class FleetRunner(FleetOptions options)
{
    /// <summary>Runs <paramref name="runHost"/> for each host; <paramref name="stopped"/> explains any hosts not started.</summary>
    public async Task<(IReadOnlyList<HostResult> Results, string? Stopped)> RunAsync(
        IReadOnlyList<InventoryHost> hosts, Func<InventoryHost, Task<HostResult>> runHost, CancellationToken ct)
    {
        var results = new HostResult?[hosts.Count];
        var waves = BatchPlan.Waves(hosts.Count, options.Batch);
        var budget = options.MaxFail?.Budget(hosts.Count);
        string? stopped = null;
        var next = 0;
        foreach (var size in waves)
        {
            if (ct.IsCancellationRequested) { stopped = "interrupted"; break; }
            var failedSoFar = results.Count(r => r is not null && HostStatusText.IsFailure(r.Status));
            if (budget is { } b && failedSoFar > b)
            {
                stopped = $"{failedSoFar} host{(failedSoFar == 1 ? "" : "s")} failed, more than --max-fail {options.MaxFail} allows; later waves not started";
                break;
            }
            var wave = Enumerable.Range(next, size).ToList();
            next += size;
            using var gate = new SemaphoreSlim(Math.Max(1, options.Parallel));
            var tasks = wave.Select(async i =>
            {
                try { await gate.WaitAsync(ct); }
                catch (OperationCanceledException) { return; }
                try
                {
                    // A waiter's cancellation lands asynchronously: a slot freed just after Ctrl-C can still
                    // reach it, so look again before starting the host.
                    if (ct.IsCancellationRequested) return;
                    results[i] = await runHost(hosts[i]);
                }
                finally { gate.Release(); }
            }).ToList();
            await Task.WhenAll(tasks);
        }
        if (ct.IsCancellationRequested) stopped ??= "interrupted";
        for (var i = 0; i < hosts.Count; i++)
            results[i] ??= new HostResult(hosts[i], HostStatus.NotStarted, TimeSpan.Zero) { Message = stopped ?? "not started" };
        return (results!, stopped);
    }

    /// <summary>
    /// The fleet's exit code, in the same scheme as one host's: 2 when any host changed, 4 when any
    /// failed (unreachable, refused, not started: every status but ok and changed), 6 for both, else 0.
    /// </summary>
    public static int ExitCode(IEnumerable<HostResult> results)
    {
        var code = 0;
        foreach (var r in results)
        {
            if (r.Status == HostStatus.Changed || r.Changed > 0) code |= 2;
            if (HostStatusText.IsFailure(r.Status)) code |= 4;
        }
        return code;
    }
}
