using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Converge.Testing;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Converge.Notify.Tests;

/// <summary>
/// Deliveries to real loopback servers: the retries against a server that fails, the bound against one
/// that accepts and never answers, and a Graphite receiver reading the lines off a real socket.
/// </summary>
public class DeliveryTests
{
    private sealed class Collect : ILogEventSink
    {
        public readonly List<string> Lines = [];
        public void Emit(LogEvent e)
        {
            lock (Lines) Lines.Add($"{e.Level}: {e.RenderMessage()}");
        }
    }

    private static (ILogger Log, Collect Sink) Logger()
    {
        var sink = new Collect();
        return (new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(sink).CreateLogger(), sink);
    }

    [Fact]
    public async Task Webhook_500Twice_RetriedUntil200_ThreeAttempts()
    {
        using var server = new WebhookListener([500, 500, 200]);
        var (log, sink) = Logger();
        var config = new NotifyConfig { Webhooks = [new WebhookConfig { Url = new Uri(server.Url()), Retries = 5 }], Deadline = TimeSpan.FromSeconds(20) };
        var results = await NotifyDispatcher.Start(config, Sample.Notice(), log).WaitAsync();
        results.Single().ShouldBe(new DeliveryResult($"http://127.0.0.1:{server.Port}", true, 3, null));
        var received = server.Received;
        received.Count.ShouldBe(3);
        received.Select(r => r.Body).Distinct().Count().ShouldBe(1, "each retry sends the same body");
        // Backoff: 0.5 s before the second attempt, 1 s before the third.
        (received[1].At - received[0].At).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(400));
        (received[2].At - received[1].At).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(900));
        sink.Lines.ShouldNotContain(l => l.StartsWith("Warning"));
    }

    [Fact]
    public async Task Webhook_AlwaysFailing_StopsAfterTheRetries_WarnsWithoutTheUrlPath()
    {
        using var server = new WebhookListener([503]);
        var (log, sink) = Logger();
        var config = new NotifyConfig { Webhooks = [new WebhookConfig { Url = new Uri(server.Url("/T000/tok3n")), Retries = 2 }], Deadline = TimeSpan.FromSeconds(20) };
        var result = (await NotifyDispatcher.Start(config, Sample.Notice(), log).WaitAsync()).Single();
        result.Delivered.ShouldBeFalse();
        result.Attempts.ShouldBe(3);
        server.Received.Count.ShouldBe(3, "the first attempt and two retries, no more");
        var warning = sink.Lines.Single(l => l.StartsWith("Warning"));
        warning.ShouldContain("HTTP 503");
        warning.ShouldNotContain("tok3n");
    }

    [Fact]
    public async Task Webhook_ClientError_IsNotRetried()
    {
        using var server = new WebhookListener([404]);
        var (log, _) = Logger();
        var config = new NotifyConfig { Webhooks = [new WebhookConfig { Url = new Uri(server.Url()), Retries = 3 }] };
        (await NotifyDispatcher.Start(config, Sample.Notice(), log).WaitAsync()).Single().Attempts.ShouldBe(1);
        server.Received.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Webhook_NeverAnswers_AllDeliveriesEndByTheDeadline()
    {
        using var server = new WebhookListener(hang: true);
        var (log, sink) = Logger();
        var config = new NotifyConfig
        {
            Webhooks = [new WebhookConfig { Url = new Uri(server.Url()), Timeout = TimeSpan.FromSeconds(30), Retries = 10 }],
            Deadline = TimeSpan.FromSeconds(1.5),
        };
        var watch = Stopwatch.StartNew();
        var results = await NotifyDispatcher.Start(config, Sample.Notice(), log).WaitAsync();
        watch.Stop();
        // Generous: the bound is the deadline (1.5 s) plus scheduling, never the attempt timeout (30 s).
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(6));
        results.Single().Delivered.ShouldBeFalse();
        results.Single().Error.ShouldNotBeNull().ShouldContain("deadline");
        server.Received.Count.ShouldBe(1);
        sink.Lines.ShouldContain(l => l.StartsWith("Warning") && l.Contains("deadline"));
    }

    [Fact]
    public async Task Webhook_PerAttemptTimeout_RetriesAHangingServer()
    {
        using var server = new WebhookListener(hang: true);
        var (log, _) = Logger();
        var config = new NotifyConfig
        {
            Webhooks = [new WebhookConfig { Url = new Uri(server.Url()), Timeout = TimeSpan.FromMilliseconds(300), Retries = 1 }],
            Deadline = TimeSpan.FromSeconds(10),
        };
        var result = (await NotifyDispatcher.Start(config, Sample.Notice(), log).WaitAsync()).Single();
        result.Attempts.ShouldBe(2);
        result.Error.ShouldBe("no answer within 0.3 s");
        server.WaitFor(2, TimeSpan.FromSeconds(2)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Webhook_Headers_AreSent()
    {
        using var server = new WebhookListener();
        var (log, _) = Logger();
        var hook = new WebhookConfig
        {
            Url = new Uri(server.Url()),
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer t0ken", ["X-Team"] = "ops" },
        };
        await NotifyDispatcher.Start(new NotifyConfig { Webhooks = [hook] }, Sample.Notice(), log).WaitAsync();
        var r = server.Received.Single();
        r.Method.ShouldBe("POST");
        r.Headers["Authorization"].ShouldBe("Bearer t0ken");
        r.Headers["X-Team"].ShouldBe("ops");
        r.Headers["Content-Type"].ShouldStartWith("application/json");
    }

    [Fact]
    public void Scrub_MessageWithUrlPathOrHeader_KeepsOnlySchemeHostAndPort()
    {
        var hook = new WebhookConfig
        {
            Url = new Uri("https://hooks.example.com:8443/services/T0/tok3n?key=k3y"),
            Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer s3cret" },
        };
        WebhookNotifier.Scrub("failed: https://hooks.example.com:8443/services/T0/tok3n?key=k3y; GET /services/T0/tok3n?key=k3y with Bearer s3cret", hook)
            .ShouldBe("failed: https://hooks.example.com:8443; GET /… with (redacted)");
    }

    [Fact]
    public async Task Graphite_RealSocket_ReceivesTheLines()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var accept = Task.Run(async () =>
            {
                using var client = await listener.AcceptTcpClientAsync();
                using var reader = new StreamReader(client.GetStream());
                return await reader.ReadToEndAsync();
            });
            var config = new GraphiteConfig { Host = "127.0.0.1", Port = port };
            var result = await GraphiteSender.SendAsync(config, Sample.Notice(), CancellationToken.None);
            result.Delivered.ShouldBeTrue();
            (await accept.WaitAsync(TimeSpan.FromSeconds(10))).ShouldBe(GraphiteSender.Lines(config, Sample.Notice()));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Graphite_NothingListening_FailsFastWithAWarning()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // now nothing listens there
        var (log, sink) = Logger();
        var config = new NotifyConfig { Graphite = new GraphiteConfig { Host = "127.0.0.1", Port = port } };
        var result = (await NotifyDispatcher.Start(config, Sample.Notice(), log).WaitAsync()).Single();
        result.Delivered.ShouldBeFalse();
        sink.Lines.ShouldContain(l => l.StartsWith("Warning") && l.Contains($"graphite 127.0.0.1:{port}"));
    }
}
