using System.Globalization;
using System.Text.Json.Nodes;
using Converge.Machine.Native;

namespace Converge.Machine.Facts;

/// <summary><c>networking</c>: every interface's addresses and MAC, and the primary IPv4 address.</summary>
internal static class NetworkFacts
{
    /// <summary>
    /// <c>{interfaces: {name: {ipv4: [...], ipv6: [...], mac}}, primary_ip}</c>. The primary address is the
    /// first IPv4 address of the interface holding the default route (<c>proc/net/route</c>), else of the
    /// first interface that is up and not loopback; null when there is none.
    /// </summary>
    public static JsonObject Read(FactOptions options)
    {
        var interfaces = new JsonObject();
        var firstIpv4 = new Dictionary<string, string>(StringComparer.Ordinal);
        string? fallback = null;
        foreach (var nic in InterfaceAddresses.Read().OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var ipv4 = new JsonArray(nic.Ipv4.Select(a => (JsonNode?)a.ToString()).ToArray());
            var ipv6 = new JsonArray(nic.Ipv6.Select(a => (JsonNode?)a.ToString()).ToArray());
            interfaces[nic.Name] = new JsonObject { ["ipv4"] = ipv4, ["ipv6"] = ipv6, ["mac"] = Mac(nic.Mac) };
            if (nic.Ipv4.Count == 0) continue;
            var first = nic.Ipv4[0].ToString();
            firstIpv4[nic.Name] = first;
            if (fallback is null && nic.IsUp && !nic.IsLoopback) fallback = first;
        }

        var routed = DefaultRouteInterface(HostFiles.ReadText(options.PathOf("proc/net/route")) ?? "");
        var primary = routed is not null && firstIpv4.TryGetValue(routed, out var ip) ? ip : fallback;
        return new JsonObject { ["interfaces"] = interfaces, ["primary_ip"] = primary };
    }

    /// <summary>The interface of the lowest-metric default route in a /proc/net/route table; null if none.</summary>
    public static string? DefaultRouteInterface(string routeTable)
    {
        string? best = null;
        var bestMetric = long.MaxValue;
        foreach (var line in routeTable.Split('\n').Skip(1))
        {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
            var f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8 || f[1] != "00000000" || f[7] != "00000000") continue;
            var metric = long.TryParse(f[6], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : long.MaxValue - 1;
            if (metric < bestMetric) (best, bestMetric) = (f[0], metric);
        }
        return best;
    }

    private static string? Mac(byte[]? bytes)
    {
        // Loopback and tunnels report an all-zero (or no) hardware address: that is no MAC.
        if (bytes is null || bytes.All(b => b == 0)) return null;
        return string.Join(':', bytes.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
