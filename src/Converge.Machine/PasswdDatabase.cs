using System.Globalization;
using Converge.Machine.Native;

namespace Converge.Machine;

/// <summary>
/// Users and groups read straight from <c>passwd</c> and <c>group</c> files (not NSS: Converge manages
/// local accounts, and a run must see an account that <c>useradd</c> created a moment ago).
/// Each file is re-parsed only when its inode, size or mtime changed since the last lookup.
/// Thread-safe.
/// </summary>
public sealed class PasswdDatabase : IUserDatabase
{
    private readonly CachedFile<PasswdTable> _passwd;
    private readonly CachedFile<GroupTable> _group;

    /// <summary>Reads <c>/etc/passwd</c> and <c>/etc/group</c>.</summary>
    public PasswdDatabase() : this("/") { }

    /// <summary>Reads <c>&lt;root&gt;/etc/passwd</c> and <c>&lt;root&gt;/etc/group</c>; a missing file reads as empty.</summary>
    public PasswdDatabase(string rootDirectory)
    {
        _passwd = new CachedFile<PasswdTable>(Path.Join(rootDirectory, "etc/passwd"), PasswdTable.Parse);
        _group = new CachedFile<GroupTable>(Path.Join(rootDirectory, "etc/group"), GroupTable.Parse);
    }

    /// <inheritdoc />
    public int? UidOf(string user) => _passwd.Current.ByName.TryGetValue(user, out var e) ? e.Uid : null;

    /// <inheritdoc />
    public int? GidOf(string group) => _group.Current.ByName.TryGetValue(group, out var gid) ? gid : null;

    /// <inheritdoc />
    public string? UserName(int uid) => _passwd.Current.ByUid.GetValueOrDefault(uid);

    /// <inheritdoc />
    public string? GroupName(int gid) => _group.Current.ByGid.GetValueOrDefault(gid);

    /// <inheritdoc />
    /// <remarks>Accepts a user name, or a numeric uid when no user has that name.</remarks>
    public (string Home, int Uid, int Gid)? Account(string user)
    {
        var table = _passwd.Current;
        if (table.ByName.TryGetValue(user, out var e)) return (e.Home, e.Uid, e.Gid);
        if (int.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            && table.ByUid.TryGetValue(uid, out var name))
        {
            e = table.ByName[name];
            return (e.Home, e.Uid, e.Gid);
        }
        return null;
    }

    private sealed record PasswdEntry(int Uid, int Gid, string Home);

    private sealed class PasswdTable
    {
        public Dictionary<string, PasswdEntry> ByName { get; } = new(StringComparer.Ordinal);
        public Dictionary<int, string> ByUid { get; } = [];

        // name:password:uid:gid:gecos:home:shell. The first entry wins, as with getpwnam(3).
        public static PasswdTable Parse(string text)
        {
            var table = new PasswdTable();
            foreach (var fields in ColonFile.Records(text, minimumFields: 7))
            {
                if (!ColonFile.TryId(fields[2], out var uid) || !ColonFile.TryId(fields[3], out var gid)) continue;
                table.ByName.TryAdd(fields[0], new PasswdEntry(uid, gid, fields[5]));
                table.ByUid.TryAdd(uid, fields[0]);
            }
            return table;
        }
    }

    private sealed class GroupTable
    {
        public Dictionary<string, int> ByName { get; } = new(StringComparer.Ordinal);
        public Dictionary<int, string> ByGid { get; } = [];

        // name:password:gid:members
        public static GroupTable Parse(string text)
        {
            var table = new GroupTable();
            foreach (var fields in ColonFile.Records(text, minimumFields: 3))
            {
                if (!ColonFile.TryId(fields[2], out var gid)) continue;
                table.ByName.TryAdd(fields[0], gid);
                table.ByGid.TryAdd(gid, fields[0]);
            }
            return table;
        }
    }

    private static class ColonFile
    {
        public static IEnumerable<string[]> Records(string text, int minimumFields)
        {
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.TrimEnd('\r');
                // '#' comments and NIS compat lines ("+", "-name") are not local accounts.
                if (line.Length == 0 || line[0] is '#' or '+' or '-') continue;
                var fields = line.Split(':');
                if (fields.Length >= minimumFields && fields[0].Length > 0) yield return fields;
            }
        }

        public static bool TryId(string text, out int id) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    /// <summary>A parsed file, re-read when its identity (inode, size, mtime) changes.</summary>
    private sealed class CachedFile<T>(string path, Func<string, T> parse) where T : class
    {
        private readonly object _gate = new();
        private (StatxResult Stamp, T Value)? _cached;

        public T Current
        {
            get
            {
                lock (_gate)
                {
                    if (!Statx.TryLstat(path, out var stamp, out _))
                        return parse(""); // a missing database has no entries
                    if (_cached is { } c && c.Stamp == stamp) return c.Value;
                    var value = parse(File.ReadAllText(path));
                    _cached = (stamp, value);
                    return value;
                }
            }
        }
    }
}
