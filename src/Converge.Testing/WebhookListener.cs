using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Converge.Testing;

/// <summary>A request a <see cref="WebhookListener"/> received.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Body, IReadOnlyDictionary<string, string> Headers, DateTimeOffset At);

/// <summary>
/// A real HTTP server on a free loopback port (<see cref="HttpListener"/>), for webhook tests: records
/// every request and answers the n-th one with the n-th status of <c>statuses</c> (the last one repeats),
/// or never answers at all (<c>hang: true</c>: the connection is accepted and left waiting).
/// </summary>
public sealed class WebhookListener : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly int[] _statuses;
    private readonly bool _hang;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly List<HttpListenerContext> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _count;

    public WebhookListener(int[]? statuses = null, bool hang = false)
    {
        _statuses = statuses is { Length: > 0 } ? statuses : [200];
        _hang = hang;
        // HttpListener cannot pick a free port itself: take one from the kernel, then bind it (retrying on a race).
        for (var attempt = 0; ; attempt++)
        {
            Port = FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; private set; }

    /// <summary>The URL to configure (with a path, as real hook URLs have).</summary>
    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    public IReadOnlyList<ReceivedRequest> Received => _received.ToList();

    /// <summary>Waits (up to <paramref name="timeout"/>) until at least <paramref name="count"/> requests arrived.</summary>
    public IReadOnlyList<ReceivedRequest> WaitFor(int count, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (_received.Count < count && DateTime.UtcNow < until) Thread.Sleep(20);
        return Received;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
            _received.Enqueue(new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, body, headers, DateTimeOffset.UtcNow));
            if (_hang)
            {
                lock (_held) _held.Add(context);
                continue;
            }
            var n = Interlocked.Increment(ref _count);
            context.Response.StatusCode = _statuses[Math.Min(n, _statuses.Length) - 1];
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        _stop.Cancel();
        lock (_held)
            foreach (var c in _held) c.Response.Abort();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
