using System.Globalization;
using System.Text.RegularExpressions;
using Converge.Providers.Common;

namespace Converge.Providers.Accounts;

/// <summary>
/// The load-time rules shared by <c>user</c> and <c>group</c>: valid names, ids and membership, read
/// through a <see cref="SpecReader"/> so every problem is a diagnostic at its value.
/// </summary>
public static partial class AccountRules
{
    /// <summary>The largest id: uid_t is 32 bits and 4294967295 is (uid_t)-1, "no change" to chown(2).</summary>
    public const long MaxId = 4294967294;

    private static readonly IReadOnlyList<KeyValuePair<string, Membership>> MembershipChoices =
    [
        new("minimum", Membership.Minimum),
        new("exact", Membership.Exact),
    ];

    /// <summary>
    /// Debian's NAME_REGEX as adduser applies it to system accounts (<c>^[a-z_][-a-z0-9_]*\$?$</c>, so
    /// <c>_ssh</c> and <c>www-data</c> pass), at most 32 characters (useradd's limit on Debian).
    /// </summary>
    public static bool IsValidName(string name) => name.Length is > 0 and <= 32 && NameRegex().IsMatch(name);

    [GeneratedRegex(@"^[a-z_][-a-z0-9_]*\$?\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    /// <summary>The title as an account name; otherwise CVG4100 at the title.</summary>
    public static string? TitleName(SpecReader reader, string kind)
    {
        var title = reader.Resource.Title;
        if (IsValidName(title)) return title;
        var span = reader.Resource.TitleSpan.IsNone ? reader.Resource.Span : reader.Resource.TitleSpan;
        reader.Error(DiagnosticCodes.InvalidAccountName, span, NameMessage($"the {kind} name (title)", title));
        return null;
    }

    /// <summary>A uid or gid: a whole number from 0 to <see cref="MaxId"/>; otherwise CVG4101.</summary>
    public static long? Id(SpecReader reader, string name)
    {
        var text = reader.String(name);
        if (text is null) return null;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id) && id is >= 0 and <= MaxId)
            return id;
        reader.Error(DiagnosticCodes.InvalidAccountId, reader.SpanOf(name),
            $"{name} must be a whole number from 0 to {MaxId}; got {text}");
        return null;
    }

    /// <summary>A group given by name or number (a user's <c>gid</c>); a bad name is CVG4100, a bad number CVG4101.</summary>
    public static Principal? GroupRef(SpecReader reader, string name)
    {
        var text = reader.String(name);
        if (text is null) return null;
        if (text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] == '-'))
        {
            var id = Id(reader, name);
            return id is null ? null : new Principal(id.Value.ToString(CultureInfo.InvariantCulture));
        }
        if (IsValidName(text)) return new Principal(text);
        reader.Error(DiagnosticCodes.InvalidAccountName, reader.SpanOf(name), NameMessage(name, text));
        return null;
    }

    /// <summary>A list of account names (<c>groups</c>, <c>members</c>), sorted and without duplicates; a bad name is CVG4100.</summary>
    public static IReadOnlyList<string>? Names(SpecReader reader, string name)
    {
        var list = reader.StringList(name);
        if (list is null) return null;
        var ok = true;
        foreach (var item in list)
        {
            if (IsValidName(item)) continue;
            reader.Error(DiagnosticCodes.InvalidAccountName, reader.SpanOf(name), NameMessage($"each item of {name}", item));
            ok = false;
        }
        return ok ? list.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList() : null;
    }

    /// <summary><c>minimum</c> (the default: add what is missing) or <c>exact</c> (also remove the rest); anything else is CVG4006.</summary>
    public static Membership ReadMembership(SpecReader reader) =>
        reader.Choice("membership", MembershipChoices) ?? Membership.Minimum;

    private static string NameMessage(string what, string got) =>
        $"{what} must be a valid name: lower-case letters, digits, '_' and '-', starting with a letter or '_', optionally ending in '$', at most 32 characters; got \"{got}\"";
}

/// <summary>How a member list is compared: <see cref="Minimum"/> adds the missing, <see cref="Exact"/> also removes the rest.</summary>
public enum Membership { Minimum, Exact }
