using System.Globalization;
using System.Text;
using Converge.Machine;
using Converge.Providers.Common;

namespace Converge.Providers.Accounts;

/// <summary>One line of <c>/etc/passwd</c>.</summary>
public sealed record PasswdEntry(string Name, long Uid, long Gid, string Comment, string Home, string Shell);

/// <summary>One line of <c>/etc/shadow</c>: the hash and the expiry in days since 1970-01-01 (null: never).</summary>
public sealed record ShadowEntry(string Name, string Password, long? ExpiryDays);

/// <summary>One line of <c>/etc/group</c>.</summary>
public sealed record GroupEntry(string Name, long Gid, IReadOnlyList<string> Members);

/// <summary>
/// The local account databases, parsed straight from the files through <see cref="ISystem"/> (not NSS:
/// Converge manages local accounts, and must see what useradd wrote a moment ago). Reads only. A missing
/// file reads as empty; the first entry of a name wins, as with getpwnam(3).
/// </summary>
public static class AccountFiles
{
    public const string PasswdPath = "/etc/passwd";
    public const string ShadowPath = "/etc/shadow";
    public const string GroupPath = "/etc/group";

    /// <summary>The passwd entry named <paramref name="name"/>, or null.</summary>
    public static PasswdEntry? User(ISystem system, string name)
    {
        foreach (var f in Records(system, PasswdPath, 7))
            if (f[0] == name && TryId(f[2], out var uid) && TryId(f[3], out var gid))
                return new PasswdEntry(f[0], uid, gid, f[4], f[5], f[6]);
        return null;
    }

    /// <summary>The shadow entry named <paramref name="name"/>, or null.</summary>
    public static ShadowEntry? Shadow(ISystem system, string name)
    {
        foreach (var f in Records(system, ShadowPath, 2))
            if (f[0] == name)
                return new ShadowEntry(f[0], f[1], f.Length > 7 && TryId(f[7], out var days) ? days : null);
        return null;
    }

    /// <summary>Every group entry, in file order.</summary>
    public static IReadOnlyList<GroupEntry> Groups(ISystem system)
    {
        var result = new List<GroupEntry>();
        foreach (var f in Records(system, GroupPath, 3))
        {
            if (!TryId(f[2], out var gid)) continue;
            var members = f.Length > 3 && f[3].Length > 0 ? f[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            result.Add(new GroupEntry(f[0], gid, members));
        }
        return result;
    }

    /// <summary>The first group named <paramref name="name"/>, or null.</summary>
    public static GroupEntry? Group(IReadOnlyList<GroupEntry> groups, string name) =>
        groups.FirstOrDefault(g => g.Name == name);

    private static IEnumerable<string[]> Records(ISystem system, string path, int minimumFields)
    {
        if (system.Stat(path) is null) yield break;
        var text = Encoding.UTF8.GetString(system.ReadAllBytes(path));
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            // '#' comments and NIS compat lines ("+", "-name") are not local accounts.
            if (line.Length == 0 || line[0] is '#' or '+' or '-') continue;
            var fields = line.Split(':');
            if (fields.Length >= minimumFields && fields[0].Length > 0) yield return fields;
        }
    }

    private static bool TryId(string text, out long id) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
}

/// <summary>Runs the shadow-utils commands the account providers plan, exactly as planned.</summary>
public static class AccountCommands
{
    /// <summary>How long one useradd/usermod/gpasswd may take (they lock and rewrite small files).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs <paramref name="argv"/>; a non-zero exit or a timeout throws <see cref="ProviderException"/>
    /// with <paramref name="display"/> (already redacted by the caller) and the tail of stderr.
    /// </summary>
    public static async Task RunAsync(ISystem system, IReadOnlyList<string> argv, string display, CancellationToken ct)
    {
        ProcessResult result;
        try
        {
            result = await system.RunAsync(new ProcessSpec(argv) { Timeout = Timeout }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
            throw ProviderException.CommandNotStarted(display, e);
        }
        if (result.TimedOut) throw ProviderException.CommandTimedOut(display, Timeout, result);
        if (result.ExitCode != 0) throw ProviderException.CommandFailed(display, result, [0]);
    }
}
