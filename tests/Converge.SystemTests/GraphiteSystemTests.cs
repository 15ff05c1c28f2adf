using System.Globalization;
using System.Text.Json.Nodes;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// A real carbon-cache (Debian's graphite-carbon) in a throwaway host with its own loopback: converge
/// runs inside the host with <c>notify.graphite</c> pointing at 127.0.0.1:2003, and the numbers are read
/// back from the whisper files carbon wrote, with <c>whisper-fetch</c> (python3-whisper). Proves the
/// plaintext lines are what carbon accepts, under the documented paths, with the run's counts at the
/// run's end time (one point per metric in a 1 s retention).
/// </summary>
public class GraphiteSystemTests(ITestOutputHelper output)
{
    private const string Site = "/root/site";

    // A 1 s retention, so the point of one run lands in its own slot and whisper-fetch finds it.
    private const string Schemas = """
        [converge]
        pattern = ^converge-test\.
        retentions = 1s:1h

        [default]
        pattern = .*
        retentions = 60s:1d
        """;

    [Fact]
    public async Task Apply_WithGraphite_CarbonStoresTheRunsNumbers_ReadBackWithWhisperFetch()
    {
        await using var host = ThrowawayHost.Start(new HostOptions
        {
            Hostname = "web-01",
            PrivateNetwork = true,
            Packages = ["graphite-carbon", "python3-whisper"],
        });
        await host.WriteFileAsync("/etc/carbon/storage-schemas.conf", Schemas);
        var start = await host.ShAsync("""
            set -e
            mkdir -p /var/lib/graphite/whisper /var/log/carbon /run/carbon
            sed -i 's/^LINE_RECEIVER_INTERFACE.*/LINE_RECEIVER_INTERFACE = 127.0.0.1/; s/^ENABLE_UDP_LISTENER.*/ENABLE_UDP_LISTENER = False/; s/^MAX_CREATES_PER_MINUTE.*/MAX_CREATES_PER_MINUTE = inf/' /etc/carbon/carbon.conf
            carbon-cache --config=/etc/carbon/carbon.conf --pidfile=/run/carbon/carbon-cache.pid --logdir=/var/log/carbon start
            for i in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', 2003), 1).close()" 2>/dev/null && exit 0; sleep 0.1; done
            echo "carbon-cache did not listen on 2003"; cat /var/log/carbon/*.log; exit 1
            """, timeout: TimeSpan.FromSeconds(60));
        start.ExitCode.ShouldBe(0, start.ToString());

        await host.WriteFileAsync("/etc/converge/converge.yaml", """
            notify:
              graphite:
                host: 127.0.0.1
                port: 2003
                prefix: converge-test
                timeout: 2s
            """);
        await host.WriteFileAsync(Site + "/site.yaml", """
            resources:
              - file: /root/a.txt
                content: "a\n"
              - file: /root/b.txt
                content: "b\n"
              - file: /root/c.txt
                content: "c\n"
              - exec: fails
                command: "exit 3"
              - exec: after-failure
                command: "true"
                require: exec[fails]
            """);
        var run = await host.ApplyAsync(Site, noop: false, expectedExit: 6);
        var report = JsonNode.Parse(run.Stdout)!.AsObject();
        output.WriteLine(run.Stderr);
        var finished = DateTimeOffset.Parse((string)report["finishedAt"]!, CultureInfo.InvariantCulture).ToUnixTimeSeconds();
        var durationMs = (double)report["durationMs"]!;

        // carbon writes its cache to disk on its own schedule: wait (boundedly) until every file has its point.
        ((string)report["host"]!).ShouldBe("web-01");
        var dir = "/var/lib/graphite/whisper/converge-test/web-01/run";
        var values = new Dictionary<string, double>();
        for (var attempt = 0; attempt < 100 && values.Count < 5; attempt++)
        {
            values.Clear();
            foreach (var metric in new[] { "changed", "failed", "skipped", "duration_ms", "resources" })
            {
                var fetch = await host.ShAsync($"test -f {dir}/{metric}.wsp && whisper-fetch --from={finished - 5} --until={finished + 5} {dir}/{metric}.wsp");
                foreach (var line in fetch.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = line.Split('\t');
                    if (parts.Length == 2 && parts[1] != "None" && long.Parse(parts[0], CultureInfo.InvariantCulture) == finished)
                        values[metric] = double.Parse(parts[1], CultureInfo.InvariantCulture);
                }
            }
            if (values.Count < 5) await Task.Delay(200);
        }
        output.WriteLine(string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value}")));
        output.WriteLine((await host.ShAsync("find /var/lib/graphite/whisper -name '*.wsp'; tail -n 20 /var/log/carbon/*.log")).Stdout);
        values["changed"].ShouldBe(3);
        values["failed"].ShouldBe(1);
        values["skipped"].ShouldBe(1);
        values["resources"].ShouldBe(5);
        values["duration_ms"].ShouldBe(durationMs, tolerance: 0.01);
    }
}
