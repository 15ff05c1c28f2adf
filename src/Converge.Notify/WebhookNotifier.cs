using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Converge.Notify;

/// <summary>One delivery's outcome: how many attempts it took and, when it failed, why (never the URL's path or a header).</summary>
public sealed record DeliveryResult(string Target, bool Delivered, int Attempts, string? Error);

/// <summary>
/// POSTs a body to one webhook with bounded retries: each attempt bounded by the webhook's timeout, a
/// failed attempt (no connection, no answer in time, 5xx, 429) retried after a backoff of 0.5 s, 1 s,
/// 2 s …, never past the caller's token (the dispatcher's overall deadline). A 4xx other than 429 is not
/// retried: the same request would be refused again.
/// </summary>
public sealed class WebhookNotifier(HttpClient http)
{
    /// <summary>The first retry waits this long; each later one twice as long as the one before.</summary>
    public static TimeSpan FirstBackoff { get; } = TimeSpan.FromMilliseconds(500);

    public async Task<DeliveryResult> SendAsync(WebhookConfig hook, string body, CancellationToken ct)
    {
        var attempts = 0;
        string? error = null;
        var backoff = FirstBackoff;
        for (var attempt = 0; attempt <= hook.Retries; attempt++)
        {
            if (attempt > 0)
            {
                try
                {
                    await Task.Delay(backoff, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff *= 2;
            }
            if (ct.IsCancellationRequested) break;
            attempts++;
            using var attemptCt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attemptCt.CancelAfter(hook.Timeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url)
                {
                    Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
                };
                request.Headers.UserAgent.ParseAdd("converge/1");
                foreach (var (name, value) in hook.Headers) request.Headers.TryAddWithoutValidation(name, value);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptCt.Token);
                var code = (int)response.StatusCode;
                if (response.IsSuccessStatusCode) return new DeliveryResult(hook.Display, true, attempts, null);
                error = $"HTTP {code} {response.ReasonPhrase}";
                if (code < 500 && response.StatusCode != HttpStatusCode.TooManyRequests) break;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                error = $"no answer within {hook.Timeout.TotalSeconds:0.###} s";
            }
            catch (OperationCanceledException)
            {
                error = error is null ? "stopped at the notification deadline" : $"{error}; stopped at the notification deadline";
                break;
            }
            catch (HttpRequestException e)
            {
                error = Scrub(e.Message, hook);
            }
        }
        return new DeliveryResult(hook.Display, false, attempts, error ?? "stopped at the notification deadline before the first attempt");
    }

    /// <summary>Takes the URL (path, query: tokens) and header values out of a message before it is logged.</summary>
    public static string Scrub(string message, WebhookConfig hook)
    {
        var m = message.Replace(hook.Url.OriginalString, hook.Display, StringComparison.Ordinal)
            .Replace(hook.Url.AbsoluteUri, hook.Display, StringComparison.Ordinal);
        if (hook.Url.PathAndQuery.Length > 1) m = m.Replace(hook.Url.PathAndQuery, "/…", StringComparison.Ordinal);
        foreach (var value in hook.Headers.Values)
            if (value.Length > 0) m = m.Replace(value, "(redacted)", StringComparison.Ordinal);
        return m;
    }
}
