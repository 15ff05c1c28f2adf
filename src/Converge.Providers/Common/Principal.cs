using System.Globalization;
using Converge.Machine;

namespace Converge.Providers.Common;

/// <summary>
/// A user or group as the manifest names it: a name (<c>www-data</c>) or a numeric id (<c>33</c>).
/// Names are resolved through the users database when read and again when applied, because the
/// account may be created earlier in the same run.
/// </summary>
public sealed record Principal(string Text)
{
    /// <summary>The numeric id when the manifest gave one, otherwise null.</summary>
    public int? Id => int.TryParse(Text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>True when the manifest gave a name (which then needs resolving, and implies a <c>user[…]</c>/<c>group[…]</c> auto-require).</summary>
    public bool IsName => Id is null;

    /// <summary>The uid, or null when no such user exists (yet).</summary>
    public int? ResolveUser(IUserDatabase users) => Id ?? users.UidOf(Text);

    /// <summary>The gid, or null when no such group exists (yet).</summary>
    public int? ResolveGroup(IUserDatabase users) => Id ?? users.GidOf(Text);

    /// <summary>
    /// True for a numeric id or a name useradd would accept: letters, digits, '_', '-', '.', an optional
    /// trailing '$' (Samba machine accounts), not starting with '-', at most 32 characters.
    /// </summary>
    public static bool IsValid(string text)
    {
        if (text.Length is 0 or > 32 || text[0] == '-') return false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') continue;
            if (c == '$' && i == text.Length - 1) continue;
            return false;
        }
        return true;
    }

    public override string ToString() => Text;
}
