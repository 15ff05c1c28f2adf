using Serilog;

namespace Converge.Notify;

/// <summary>
/// Sends one run's notice to every configured target at once, in the background, after the report is
/// saved. <see cref="Start"/> returns at once; <see cref="Pending.WaitAsync"/> (called when the run has
/// printed its report and is about to end) waits for the deliveries, but never past the configured
/// deadline counted from <see cref="Start"/>: a dead or slow receiver costs a run at most that bound.
/// A failed delivery is a warning in the log, never an error: it does not change the run's exit code.
/// </summary>
public static class NotifyDispatcher
{
    /// <summary>Deliveries under way; wait for them (boundedly) before the process ends.</summary>
    public sealed class Pending(Task<IReadOnlyList<DeliveryResult>> all, CancellationTokenSource deadline, TimeSpan bound, IDisposable? owned)
    {
        public static readonly Pending None = new(Task.FromResult<IReadOnlyList<DeliveryResult>>([]), new CancellationTokenSource(), TimeSpan.Zero, null);

        /// <summary>The deliveries' results, or those finished when the deadline passed (the rest are abandoned).</summary>
        public async Task<IReadOnlyList<DeliveryResult>> WaitAsync()
        {
            try
            {
                // The senders stop at the deadline themselves; the extra second only guards against one that does not.
                await Task.WhenAny(all, Task.Delay(bound + TimeSpan.FromSeconds(1)));
                return all.IsCompletedSuccessfully ? all.Result : [];
            }
            finally
            {
                deadline.Dispose();
                owned?.Dispose();
            }
        }
    }

    /// <summary>Which webhooks want this notice (by <c>on</c> and <c>noop</c>).</summary>
    public static bool Wants(WebhookConfig hook, RunNotice n)
        => (!n.Noop || hook.Noop)
           && ((hook.On.HasFlag(NotifyOn.Changes) && n.HasChanges) || (hook.On.HasFlag(NotifyOn.Failures) && n.HasFailures));

    /// <summary>Whether Graphite gets this run's numbers: every run the engine finished (previews only with <c>noop: true</c>).</summary>
    public static bool Wants(GraphiteConfig graphite, RunNotice n) => n.Errors.Count == 0 && (!n.Noop || graphite.Noop);

    public static Pending Start(NotifyConfig config, RunNotice notice, ILogger log)
    {
        var hooks = config.Webhooks.Where(h => Wants(h, notice)).ToList();
        var graphite = config.Graphite is { } g && Wants(g, notice) ? g : null;
        if (hooks.Count == 0 && graphite is null) return Pending.None;

        var deadline = new CancellationTokenSource(config.Deadline);
        // One client per run: connections are not reused across runs, and the process ends soon after.
        var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), UseProxy = true })
        {
            Timeout = Timeout.InfiniteTimeSpan, // each attempt has its own bound
        };
        var notifier = new WebhookNotifier(http);
        var tasks = new List<Task<DeliveryResult>>();
        foreach (var hook in hooks)
        {
            var body = WebhookBody.Build(hook.Format, notice, hook.Link);
            tasks.Add(Task.Run(() => notifier.SendAsync(hook, body, deadline.Token)));
        }
        if (graphite is not null) tasks.Add(Task.Run(() => GraphiteSender.SendAsync(graphite, notice, deadline.Token)));

        async Task<IReadOnlyList<DeliveryResult>> All()
        {
            try
            {
                await Task.WhenAll(tasks);
            }
            catch (Exception e)
            {
                // A bug in a sender must not become the run's failure: say so, keep what was delivered.
                var message = hooks.Aggregate(e.Message, (m, h) => WebhookNotifier.Scrub(m, h));
                log.Warning("A notification failed unexpectedly: {Error}; the run's result is unchanged", message);
            }
            var results = tasks.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
            foreach (var r in results)
            {
                if (r.Delivered) log.Debug("Notified {Target} ({Attempts} attempt(s))", r.Target, r.Attempts);
                else log.Warning("Could not notify {Target} after {Attempts} attempt(s): {Error}; the run's result is unchanged",
                    r.Target, r.Attempts, r.Error);
            }
            return (IReadOnlyList<DeliveryResult>)results;
        }
        return new Pending(All(), deadline, config.Deadline, http);
    }
}
