using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Agent.Tests;

/// <summary>
/// The agent's <c>notify:</c> block (agent.yaml): each cycle's webhook names the revision transition the
/// agent made (old → new), a broken commit is sent as a failure, and the same numbers reach Graphite (a
/// real socket) and the Prometheus textfile.
/// </summary>
public class AgentNotifyTests
{
    /// <summary>A plaintext receiver on a free loopback port: everything written to it, connection by connection.</summary>
    private sealed class LineReceiver : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<string> _received = [];
        private readonly Task _loop;

        public LineReceiver()
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (true)
                {
                    TcpClient client;
                    try { client = await _listener.AcceptTcpClientAsync(); }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                    using (client)
                    using (var reader = new StreamReader(client.GetStream()))
                    {
                        var text = await reader.ReadToEndAsync();
                        lock (_received) _received.Add(text);
                    }
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public IReadOnlyList<string> Received
        {
            get { lock (_received) return _received.ToList(); }
        }

        public void Dispose()
        {
            _listener.Stop();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public void Agent_Cycles_WebhookShowsTheTransition_BrokenCommitIsAFailure_GraphiteMatchesPrometheus()
    {
        using var git = new GitRemote();
        using var hook = new WebhookListener();
        using var graphite = new LineReceiver();
        var metrics = git["metrics"];
        var config = git["agent.yaml"];
        File.WriteAllText(config, $"""
            source: {git.Remote}
            metrics_dir: {metrics}
            notify:
              webhooks:
                - url: {hook.Url()}
              graphite:
                host: 127.0.0.1
                port: {graphite.Port}
            """);
        ConvergeRun Once() => ConvergeProcess.Run(["agent", "--once", "--config", config, "--state-dir", git.State]);

        var first = git.Commit(git.Files(("a.txt", "A")), "first", author: "alice");
        Once().ExitCode.ShouldBe(2);
        var second = git.Commit(git.Files(("a.txt", "B"), ("b.txt", "B")), "second", author: "dave");
        var run = Once();
        run.ExitCode.ShouldBe(2, run.ToString());

        hook.Received.Count.ShouldBe(2);
        var body = JsonNode.Parse(hook.Received[1].Body)!;
        ((string?)body["revision"]!["old"]).ShouldBe(first);
        ((string?)body["revision"]!["new"]).ShouldBe(second);
        ((string?)body["who"]!["author"]).ShouldBe("dave <dave@example.com>");
        ((string?)body["who"]!["committer"]).ShouldBe("dave <dave@example.com>");
        ((int)body["summary"]!["changed"]!).ShouldBe(2);
        var report = JsonNode.Parse(File.ReadAllText((string)git.LastRun()!["report"]!))!;
        ((string?)body["runId"]).ShouldBe((string?)report["runId"]);
        ((string?)report["who"]!["committer"]).ShouldBe("dave <dave@example.com>");

        // The same numbers in Graphite and in the Prometheus textfile.
        graphite.Received.Count.ShouldBe(2);
        var lines = graphite.Received[1].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        var host = (string)report["host"]!;
        var prom = File.ReadAllLines(Path.Combine(metrics, "converge.prom"))
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
        lines[$"converge.{host}.run.changed"].ShouldBe(prom["converge_last_run_resources{status=\"changed\"}"]);
        lines[$"converge.{host}.run.failed"].ShouldBe(prom["converge_last_run_resources{status=\"failed\"}"]);
        lines[$"converge.{host}.run.skipped"].ShouldBe(prom["converge_last_run_resources{status=\"skipped\"}"]);
        lines[$"converge.{host}.run.resources"].ShouldBe(prom["converge_last_run_resources_total"]);
        lines[$"converge.{host}.run.duration_ms"].ShouldBe(prom["converge_last_run_duration_seconds"] * 1000, tolerance: 0.001);
        lines[$"converge.{host}.run.changed"].ShouldBe(2);

        git.Commit("resources:\n  - file: relative/path\n", "broken", author: "eve");
        var broken = Once();
        broken.ExitCode.ShouldBe(1, broken.ToString());
        hook.Received.Count.ShouldBe(3, "the broken revision (a failure) is sent; the fallback run changed nothing and is not");
        var failure = JsonNode.Parse(hook.Received[2].Body)!;
        ((string?)failure["status"]).ShouldBe("failed");
        ((int)failure["exitCode"]!).ShouldBe(1);
        ((string?)failure["who"]!["author"]).ShouldBe("eve <eve@example.com>");
        failure["errors"]!.AsArray().ShouldNotBeEmpty();
        ((string?)failure["errors"]![0]).ShouldNotBeNull().ShouldContain("site.yaml");
    }
}
