using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Converge.Testing.Hosts;

/// <summary>
/// A userspace TCP relay that adds latency: it listens on a machine address and forwards every
/// connection to <see cref="Target"/>, holding each chunk it reads <see cref="Delay"/> before writing it on,
/// in each direction. A round trip through it takes the link's own plus twice the delay (25 ms gives
/// ~51 ms), while data keeps flowing (chunks are pipelined, not serialized). For latency benchmarks on
/// kernels without netem; connections to it are ordinary TCP, so clients see a distant server.
/// </summary>
/// <remarks>
/// Both sides use TCP_NODELAY, so the relay's delay is the only one added. End of stream is forwarded,
/// also after the delay (a half-close stays a half-close); an error on either side closes both.
/// </remarks>
public sealed class TcpDelayRelay : IAsyncDisposable
{
    // Chunks in flight per direction before reading pauses: bounds memory at ~8 MB per direction.
    private const int MaxQueuedChunks = 128;
    private const int ChunkSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private int _accepted;

    private TcpDelayRelay(Socket listener, IPEndPoint target, TimeSpan delay)
    {
        _listener = listener;
        Target = target;
        Delay = delay;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Where clients connect.</summary>
    public IPEndPoint Endpoint { get; }

    public IPEndPoint Target { get; }

    /// <summary>Added to each direction of every connection.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Listens on <paramref name="listenAddress"/> (default 127.0.0.1), on a port the kernel picks.</summary>
    public static TcpDelayRelay Start(IPEndPoint target, TimeSpan delay, IPAddress? listenAddress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(listenAddress ?? IPAddress.Loopback, 0));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new TcpDelayRelay(listener, target, delay);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            Interlocked.Increment(ref _accepted);
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(RelayAsync(client));
            }
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        lock (_sockets) { _sockets.Add(client); _sockets.Add(server); }
        try
        {
            // The connect goes without delay: the delayed SYN-ACK a real distance adds shows in the first
            // data round trip instead (the server's banner), which is what clients wait for anyway.
            await server.ConnectAsync(Target, _stop.Token);
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            await Task.WhenAll(PumpAsync(client, server, failed), PumpAsync(server, client, failed));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        finally
        {
            lock (_sockets) { _sockets.Remove(client); _sockets.Remove(server); }
            client.Dispose();
            server.Dispose();
        }
    }

    /// <summary>One direction: reads chunks as they come, each sent on once it is <see cref="Delay"/> old.</summary>
    private async Task PumpAsync(Socket from, Socket to, CancellationTokenSource failed)
    {
        var queue = Channel.CreateBounded<(byte[]? Data, int Length, long Due)>(new BoundedChannelOptions(MaxQueuedChunks) { SingleReader = true, SingleWriter = true });
        var delayTicks = (long)(Delay.TotalSeconds * Stopwatch.Frequency);
        var reader = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var buffer = new byte[ChunkSize];
                    var n = await from.ReceiveAsync(buffer, SocketFlags.None, failed.Token);
                    await queue.Writer.WriteAsync((n == 0 ? null : buffer, n, Stopwatch.GetTimestamp() + delayTicks), failed.Token);
                    if (n == 0) break;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { failed.Cancel(); }
            finally { queue.Writer.TryComplete(); }
        });
        try
        {
            await foreach (var (data, length, due) in queue.Reader.ReadAllAsync(failed.Token))
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, failed.Token);
                if (data is null)
                {
                    to.Shutdown(SocketShutdown.Send);
                    break;
                }
                for (var sent = 0; sent < length;)
                    sent += await to.SendAsync(data.AsMemory(sent, length - sent), SocketFlags.None, failed.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { failed.Cancel(); }
        await reader;
    }

    /// <summary>Stops listening and closes every relayed connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop;
        lock (_sockets) foreach (var s in _sockets) s.Dispose();
        Task[] running;
        lock (_connections) running = [.. _connections];
        await Task.WhenAll(running);
        _stop.Dispose();
    }
}
