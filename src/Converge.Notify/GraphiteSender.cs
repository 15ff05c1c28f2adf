using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Converge.Notify;

/// <summary>Metric paths as Graphite users expect them.</summary>
public static class GraphitePath
{
    /// <summary>
    /// A host name as one path component: dots become <c>_</c> (<c>web-01.example.com</c> →
    /// <c>web-01_example_com</c>; a dot would split it into a tree), and anything but letters, digits,
    /// <c>_</c> and <c>-</c> also becomes <c>_</c> (carbon drops or mangles such lines).
    /// </summary>
    public static string Component(string name)
    {
        var b = new StringBuilder(name.Length);
        foreach (var c in name) b.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        return b.Length == 0 ? "_" : b.ToString();
    }

    public static bool IsValidPrefix(string prefix)
        => prefix.Length > 0 && prefix.Split('.').All(p => p.Length > 0 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'));
}

/// <summary>
/// Sends a run's numbers to carbon over its plaintext protocol: one TCP connection, one line per metric
/// (<c>PATH VALUE TIMESTAMP\n</c>), the timestamp being the run's end. Connecting and sending are bounded
/// by the configured timeout and the caller's token.
/// </summary>
public static class GraphiteSender
{
    /// <summary>The lines for <paramref name="n"/>: <c>PREFIX.HOST.run.{changed,failed,skipped,duration_ms,resources}</c> (<c>noop</c> instead of <c>run</c> for previews, changed counting pending changes).</summary>
    public static string Lines(GraphiteConfig config, RunNotice n)
    {
        var root = $"{config.Prefix}.{GraphitePath.Component(n.Host)}.{(n.Noop ? "noop" : "run")}";
        var ts = n.FinishedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var b = new StringBuilder();
        void Line(string name, double value)
            => b.Append(root).Append('.').Append(name).Append(' ').Append(value.ToString("0.###", CultureInfo.InvariantCulture)).Append(' ').Append(ts).Append('\n');
        Line("changed", n.Noop ? n.WouldChange : n.Changed);
        Line("failed", n.Failed);
        Line("skipped", n.Skipped);
        Line("duration_ms", n.DurationMs);
        Line("resources", n.Total);
        return b.ToString();
    }

    public static async Task<DeliveryResult> SendAsync(GraphiteConfig config, RunNotice n, CancellationToken ct)
    {
        var target = $"graphite {config.Host}:{config.Port}";
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(config.Timeout);
        try
        {
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(config.Host, config.Port, bound.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(Lines(config, n)), bound.Token);
            await stream.FlushAsync(bound.Token);
            // Half-close, so carbon reads to the end and sees the last line before the connection goes.
            client.Client.Shutdown(SocketShutdown.Send);
            return new DeliveryResult(target, true, 1, null);
        }
        catch (OperationCanceledException)
        {
            return new DeliveryResult(target, false, 1, ct.IsCancellationRequested
                ? "stopped at the notification deadline"
                : $"no connection within {config.Timeout.TotalSeconds:0.###} s");
        }
        catch (SocketException e)
        {
            return new DeliveryResult(target, false, 1, e.Message);
        }
        catch (IOException e)
        {
            return new DeliveryResult(target, false, 1, e.Message);
        }
    }
}
