namespace Converge.Manifests.Diagnostics;

/// <summary>"Did you mean" for unknown names: the closest candidate within a small edit distance.</summary>
public static class Suggest
{
    /// <summary>The closest candidate (ordinal tie-break), or null when none is close enough to be a typo.</summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var limit = Math.Max(1, Math.Min(3, name.Length / 3 + 1));
        foreach (var c in candidates.OrderBy(c => c, StringComparer.Ordinal))
        {
            var d = Distance(name, c);
            if (d < bestDistance) { best = c; bestDistance = d; }
        }
        return bestDistance <= limit ? best : null;
    }

    /// <summary>" (did you mean 'x'?)" or an empty string.</summary>
    public static string DidYouMean(string name, IEnumerable<string> candidates)
        => Closest(name, candidates) is { } s ? $"; did you mean '{s}'?" : "";

    // Optimal string alignment distance: Levenshtein plus adjacent transpositions ("ensrue" → "ensure").
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        for (var j = 1; j <= b.Length; j++)
        {
            var cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
