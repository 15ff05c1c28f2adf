using System.Globalization;
using System.Text.Json.Nodes;

namespace Converge.Machine.Facts;

/// <summary><c>processors</c> and <c>memory</c>, from sysfs and /proc/meminfo.</summary>
internal static class HardwareFacts
{
    /// <summary>
    /// <c>{count}</c>: CPUs online on the host (from <c>sys/devices/system/cpu/online</c>), not the share this
    /// process may use, which <see cref="Environment.ProcessorCount"/> reports and which is the fallback.
    /// </summary>
    public static JsonObject Processors(FactOptions options) => new()
    {
        ["count"] = CountCpuList(HostFiles.ReadLine(options.PathOf("sys/devices/system/cpu/online"))) ?? Environment.ProcessorCount,
    };

    /// <summary><c>{total_bytes, available_bytes}</c>; null members when meminfo is unreadable.</summary>
    public static JsonObject Memory(FactOptions options)
    {
        var meminfo = HostFiles.ReadText(options.PathOf("proc/meminfo")) ?? "";
        return new JsonObject
        {
            ["total_bytes"] = MeminfoBytes(meminfo, "MemTotal"),
            ["available_bytes"] = MeminfoBytes(meminfo, "MemAvailable"),
        };
    }

    /// <summary>Counts a kernel cpu list such as "0-3,8,10-11"; null when it does not parse.</summary>
    public static int? CountCpuList(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return null;
        var count = 0;
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return null;
                count++;
            }
            else if (int.TryParse(part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                     && int.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var to) && to >= from)
            {
                count += to - from + 1;
            }
            else
            {
                return null;
            }
        }
        return count;
    }

    /// <summary>A meminfo line "Key:   1234 kB" in bytes.</summary>
    public static long? MeminfoBytes(string meminfo, string key)
    {
        foreach (var line in meminfo.Split('\n'))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal) || line.Length <= key.Length || line[key.Length] != ':') continue;
            var fields = line[(key.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return null;
            return fields.Length > 1 && fields[1] == "kB" ? value * 1024 : value;
        }
        return null;
    }
}
