using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>The latency relay on its own, in front of an echo server on the machine's loopback.</summary>
public class TcpDelayRelayTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RoundTrip_TakesTwiceTheDelay_BytesArriveIntactAndInOrder_HalfCloseIsForwarded()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var echo = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var buffer = new byte[8192];
            int n;
            while ((n = await socket.ReceiveAsync(buffer)) > 0) await socket.SendAsync(buffer.AsMemory(0, n));
            socket.Shutdown(SocketShutdown.Send);   // reached only if the client's half-close came through
        });
        await using var relay = TcpDelayRelay.Start((IPEndPoint)listener.LocalEndpoint, TimeSpan.FromMilliseconds(25));
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(relay.Endpoint);

        var samples = new List<double>();
        var one = new byte[1];
        for (var i = 0; i < 10; i++)
        {
            var watch = Stopwatch.StartNew();
            await client.SendAsync(new byte[] { (byte)i });
            (await client.ReceiveAsync(one)).ShouldBe(1);
            samples.Add(watch.Elapsed.TotalMilliseconds);
            one[0].ShouldBe((byte)i);
        }
        var median = samples.Order().ElementAt(samples.Count / 2);
        output.WriteLine($"TCP round trip through a 25 ms relay: median {median:0.0} ms (min {samples.Min():0.0}, max {samples.Max():0.0})");
        samples.Min().ShouldBeGreaterThanOrEqualTo(50, "25 ms each way");
        median.ShouldBeLessThan(300, "and not much more, even on a loaded machine");

        // 4 MB through it both ways: pipelined (far less than one delay per chunk) and byte-exact.
        var data = RandomNumberGenerator.GetBytes(4 << 20);
        var bulk = Stopwatch.StartNew();
        var send = Task.Run(async () =>
        {
            for (var sent = 0; sent < data.Length;) sent += await client.SendAsync(data.AsMemory(sent, Math.Min(65536, data.Length - sent)));
            client.Shutdown(SocketShutdown.Send);
        });
        using var received = new MemoryStream();
        var chunk = new byte[65536];
        int got;
        while ((got = await client.ReceiveAsync(chunk)) > 0) received.Write(chunk, 0, got);
        await send;
        output.WriteLine($"4 MB echoed through the relay in {bulk.Elapsed.TotalMilliseconds:0} ms");
        received.ToArray().ShouldBe(data, "every byte, in order; the stream ended only after the echo server saw our half-close");
        await echo.WaitAsync(TimeSpan.FromSeconds(10));
        relay.Accepted.ShouldBe(1);
    }

    [Fact]
    public async Task UnreachableTarget_ClosesTheClient_AndDisposeStopsListening()
    {
        // A port nothing listens on: the relay's connect is refused, and the client sees end of stream.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var relay = TcpDelayRelay.Start(new IPEndPoint(IPAddress.Loopback, closedPort), TimeSpan.FromMilliseconds(5));
        var endpoint = relay.Endpoint;
        using (var client = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(endpoint);
            var n = await client.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
            n.ShouldBe(0);
        }
        await relay.DisposeAsync();
        using var late = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await Should.ThrowAsync<SocketException>(async () => await late.ConnectAsync(endpoint));
    }
}
