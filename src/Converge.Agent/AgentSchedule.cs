namespace Converge.Agent;

/// <summary>Why the agent woke up for a cycle.</summary>
public enum WakeReason { Timer, Triggered, Stopping }

/// <summary>
/// When the next cycle starts: after <c>interval ± splay</c> (a uniformly random offset, so a fleet
/// started together drifts apart and does not hit the git server at once), or at once when
/// <see cref="Trigger"/> is called (SIGHUP). Triggers coalesce: any number of them while a cycle runs
/// (or before the wait starts) make exactly one immediate cycle afterwards. Time comes from a
/// <see cref="TimeProvider"/> so tests drive it with a fake clock.
/// </summary>
public sealed class AgentSchedule(TimeSpan interval, TimeSpan splay, TimeProvider time, Random random)
{
    private readonly SemaphoreSlim _trigger = new(0, 1);

    /// <summary>The delay before the next cycle: interval plus a random offset in [-splay, +splay], never negative.</summary>
    public TimeSpan NextDelay()
    {
        if (splay <= TimeSpan.Zero) return interval;
        var offset = (random.NextDouble() * 2 - 1) * splay.TotalMilliseconds;
        var ms = Math.Max(0, interval.TotalMilliseconds + offset);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Asks for a cycle now. Safe from a signal handler and any thread; repeated calls coalesce.</summary>
    public void Trigger()
    {
        try { _trigger.Release(); }
        catch (SemaphoreFullException) { } // one is already pending: coalesced
    }

    /// <summary>
    /// Waits <paramref name="delay"/>, or less if triggered. Returns <see cref="WakeReason.Stopping"/>
    /// when <paramref name="ct"/> is cancelled (never throws for it).
    /// </summary>
    public async Task<WakeReason> WaitAsync(TimeSpan delay, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return WakeReason.Stopping;
        if (_trigger.Wait(0)) return WakeReason.Triggered;
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var triggered = _trigger.WaitAsync(done.Token);
        var timer = Task.Delay(delay, time, done.Token);
        var first = await Task.WhenAny(triggered, timer).ConfigureAwait(false);
        done.Cancel(); // the other wait ends without consuming a trigger
        try { await Task.WhenAll(triggered, timer).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        if (ct.IsCancellationRequested)
        {
            // A trigger taken in the same instant as the stop is given back: it is not lost if the agent goes on.
            if (first == triggered && triggered.IsCompletedSuccessfully) Trigger();
            return WakeReason.Stopping;
        }
        return first == triggered ? WakeReason.Triggered : WakeReason.Timer;
    }
}
