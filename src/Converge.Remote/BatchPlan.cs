using System.Globalization;

namespace Converge.Remote;

/// <summary>
/// Waves of hosts for <c>--batch</c> and the failure budget of <c>--max-fail</c>. Pure: no host is contacted.
/// </summary>
public static class BatchPlan
{
    /// <summary>
    /// Splits <paramref name="hostCount"/> hosts into waves. Each element of <paramref name="spec"/>
    /// (<c>1,25%,100%</c>) is the size of the next wave: a count, or a percentage of all hosts rounded up
    /// (at least 1); the last size repeats until every host has a wave. No spec: one wave of everything.
    /// Returns the wave sizes, which add up to <paramref name="hostCount"/>.
    /// </summary>
    public static IReadOnlyList<int> Waves(int hostCount, string? spec)
    {
        if (hostCount == 0) return [];
        if (string.IsNullOrWhiteSpace(spec)) return [hostCount];
        var sizes = ParseSpec(spec).Select(s => s.Resolve(hostCount)).ToList();
        var waves = new List<int>();
        var left = hostCount;
        for (var i = 0; left > 0; i++)
        {
            var size = Math.Min(left, sizes[Math.Min(i, sizes.Count - 1)]);
            waves.Add(size);
            left -= size;
        }
        return waves;
    }

    /// <summary>A count or percentage as written on the command line.</summary>
    public readonly record struct Amount(double Value, bool Percent)
    {
        /// <summary>Hosts this amount stands for out of <paramref name="total"/>: percentages round up, minimum 1.</summary>
        public int Resolve(int total) => Percent ? Math.Max(1, (int)Math.Ceiling(total * Value / 100.0 - 1e-9)) : (int)Value;

        /// <summary>The failure budget out of <paramref name="total"/>: percentages round down (may be 0).</summary>
        public int Budget(int total) => Percent ? (int)Math.Floor(total * Value / 100.0 + 1e-9) : (int)Value;

        public override string ToString() => Percent ? $"{Value.ToString(CultureInfo.InvariantCulture)}%" : ((int)Value).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Parses <c>--batch</c>: comma-separated positive counts or percentages in (0, 100].</summary>
    public static IReadOnlyList<Amount> ParseSpec(string spec)
    {
        var parts = spec.Split(',', StringSplitOptions.TrimEntries);
        var result = new List<Amount>();
        foreach (var part in parts)
        {
            if (!TryParseAmount(part, out var a) || a.Value <= 0 || (a.Percent && a.Value > 100))
                throw new FormatException($"--batch: '{part}' is not a wave size: write a host count (1) or a percentage of the hosts (25%), comma-separated, e.g. 1,25%,100%");
            result.Add(a);
        }
        return result;
    }

    /// <summary>Parses <c>--max-fail</c>: a count of hosts or a percentage of all hosts (0 allowed).</summary>
    public static Amount ParseMaxFail(string text)
    {
        if (!TryParseAmount(text.Trim(), out var a) || a.Value < 0 || (a.Percent && a.Value > 100))
            throw new FormatException($"--max-fail: '{text}' is not a count of hosts (0, 2) or a percentage (10%)");
        return a;
    }

    private static bool TryParseAmount(string s, out Amount amount)
    {
        amount = default;
        var percent = s.EndsWith('%');
        var number = percent ? s[..^1] : s;
        if (percent)
        {
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var p)) return false;
            amount = new Amount(p, true);
            return true;
        }
        if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
        amount = new Amount(n, false);
        return true;
    }
}
