using System.Globalization;

namespace Converge.Machine;

/// <summary>
/// Permission bits (including setuid, setgid, sticky): 0..07777. Parsed from the octal string
/// ops write ("0644", "644", "2775"); shown as four octal digits.
/// </summary>
public readonly record struct UnixMode(int Bits)
{
    public override string ToString() => Convert.ToString(Bits, 8).PadLeft(4, '0');

    /// <summary>Accepts 3 or 4 octal digits with an optional leading 0 ("0644", "644", "02775").</summary>
    public static bool TryParse(string text, out UnixMode mode)
    {
        mode = default;
        var t = text.Trim();
        if (t.Length is < 3 or > 5) return false;
        foreach (var c in t)
            if (c is < '0' or > '7') return false;
        var bits = Convert.ToInt32(t, 8);
        if (bits > 0xFFF) return false; // 07777
        mode = new UnixMode(bits);
        return true;
    }

    public string ToOctal() => Convert.ToString(Bits, 8).PadLeft(4, '0').ToString(CultureInfo.InvariantCulture);
}
