using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Converge.Remote;

/// <summary>What a known_hosts file says about a key a host offered.</summary>
public enum HostKeyVerdict
{
    /// <summary>A line for this host holds exactly this key.</summary>
    Trusted,
    /// <summary>No line names this host.</summary>
    Unknown,
    /// <summary>Lines name this host, but none holds this key (or a line revokes it): refused, always.</summary>
    Changed,
}

/// <summary>The verdict on one offered key, with what was expected when it differs.</summary>
public sealed record HostKeyCheck(HostKeyVerdict Verdict, string OfferedType, string OfferedFingerprint, IReadOnlyList<string> Expected)
{
    /// <summary>The refusal a user reads: both fingerprints, and what to do.</summary>
    public string Describe(string host, string file) => Verdict switch
    {
        HostKeyVerdict.Changed =>
            $"host key for {host} has CHANGED: offered {OfferedType} {OfferedFingerprint}, expected {string.Join(" or ", Expected)} ({file}). " +
            "Refusing to connect: someone may be intercepting, or the host was rebuilt. If you know why, remove the old line (ssh-keygen -R) and connect again",
        HostKeyVerdict.Unknown =>
            $"host key for {host} is not in {file}: offered {OfferedType} {OfferedFingerprint}. Refusing to connect; check the fingerprint and pass --accept-new to record it",
        _ => $"host key for {host} is known: {OfferedType} {OfferedFingerprint}",
    };
}

/// <summary>
/// An OpenSSH known_hosts file: plain and hashed (<c>|1|salt|hash</c>) host names, patterns with
/// <c>*</c>, <c>?</c> and <c>!</c>, <c>[host]:port</c> for ports other than 22, and <c>@revoked</c> lines.
/// <c>@cert-authority</c> lines are ignored (host certificates are not supported). Thread-safe.
/// </summary>
public sealed class KnownHosts
{
    private sealed record Entry(string? Marker, string[] Patterns, string KeyType, byte[] Key);

    private readonly List<Entry> _entries = [];
    private readonly Lock _gate = new();

    /// <summary>The file checked and appended to.</summary>
    public string Path { get; }

    private KnownHosts(string path) => Path = path;

    /// <summary>Loads <paramref name="path"/>; a missing file is an empty one (every host unknown).</summary>
    public static KnownHosts Load(string path)
    {
        var known = new KnownHosts(path);
        if (File.Exists(path))
            foreach (var line in File.ReadLines(path)) known.AddLine(line);
        return known;
    }

    /// <summary>Parses known_hosts text (tests; the file form goes through <see cref="Load"/>).</summary>
    public static KnownHosts Parse(string text, string path = "known_hosts")
    {
        var known = new KnownHosts(path);
        foreach (var line in text.Split('\n')) known.AddLine(line);
        return known;
    }

    private void AddLine(string raw)
    {
        var line = raw.Trim();
        if (line.Length == 0 || line.StartsWith('#')) return;
        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        string? marker = null;
        if (fields[0].StartsWith('@'))
        {
            marker = fields[0];
            fields = fields[1..];
        }
        if (fields.Length < 3 || marker is "@cert-authority") return;
        byte[] key;
        try { key = Convert.FromBase64String(fields[2]); }
        catch (FormatException) { return; } // a damaged line names no key; OpenSSH skips it too
        _entries.Add(new Entry(marker, fields[0].Split(','), fields[1], key));
    }

    /// <summary>The name known_hosts uses for a host: <c>host</c> on port 22, else <c>[host]:port</c>.</summary>
    public static string HostName(string host, int port) => port == 22 ? host : $"[{host}]:{port}";

    /// <summary>OpenSSH's SHA256 fingerprint of a public key blob: <c>SHA256:</c> and unpadded base64.</summary>
    public static string Fingerprint(byte[] key) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(key)).TrimEnd('=');

    /// <summary>The key type written inside a public key blob (<c>ssh-ed25519</c>, <c>ssh-rsa</c>, …).</summary>
    public static string KeyType(byte[] key)
    {
        if (key.Length < 4) return "unknown";
        var length = BinaryPrimitives.ReadInt32BigEndian(key);
        return length > 0 && length <= key.Length - 4 ? Encoding.ASCII.GetString(key, 4, length) : "unknown";
    }

    /// <summary>The key types recorded for a host (to offer those algorithms first), empty when unknown.</summary>
    public IReadOnlyList<string> KeyTypesFor(string host, int port)
    {
        lock (_gate) return _entries.Where(e => e.Marker is null && Matches(e, host, port)).Select(e => e.KeyType).Distinct().ToList();
    }

    /// <summary>Checks the key <paramref name="host"/>:<paramref name="port"/> offered. Pure: reads only the loaded lines.</summary>
    public HostKeyCheck Check(string host, int port, byte[] offered)
    {
        var type = KeyType(offered);
        var fingerprint = Fingerprint(offered);
        List<Entry> lines;
        lock (_gate) lines = _entries.Where(e => Matches(e, host, port)).ToList();
        if (lines.Any(e => e.Marker == "@revoked" && e.Key.AsSpan().SequenceEqual(offered)))
            return new HostKeyCheck(HostKeyVerdict.Changed, type, fingerprint, ["(this key is marked @revoked)"]);
        var known = lines.Where(e => e.Marker is null).ToList();
        if (known.Count == 0) return new HostKeyCheck(HostKeyVerdict.Unknown, type, fingerprint, []);
        if (known.Any(e => e.Key.AsSpan().SequenceEqual(offered))) return new HostKeyCheck(HostKeyVerdict.Trusted, type, fingerprint, []);
        return new HostKeyCheck(HostKeyVerdict.Changed, type, fingerprint,
            known.Select(e => $"{e.KeyType} {Fingerprint(e.Key)}").Distinct().ToList());
    }

    /// <summary>
    /// Records a newly accepted key: appends one plain line to the file (creating it, and its directory
    /// with mode 0700, when missing) and to this instance. Appends are serialised across threads.
    /// </summary>
    public void Append(string host, int port, byte[] key)
    {
        var line = $"{HostName(host, port)} {KeyType(key)} {Convert.ToBase64String(key)}";
        lock (_gate)
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
            if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // A file without a final newline would glue our line to its last one.
            var needsNewline = File.Exists(Path) && new FileInfo(Path).Length > 0 && LastByte(Path) != '\n';
            File.AppendAllText(Path, (needsNewline ? "\n" : "") + line + "\n");
            AddLine(line);
        }
    }

    private static int LastByte(string path)
    {
        using var f = File.OpenRead(path);
        f.Seek(-1, SeekOrigin.End);
        return f.ReadByte();
    }

    private static bool Matches(Entry e, string host, int port)
    {
        var name = HostName(host, port);
        var hit = false;
        foreach (var pattern in e.Patterns)
        {
            if (pattern.StartsWith("|1|", StringComparison.Ordinal))
            {
                if (HashedMatches(pattern, name)) hit = true;
                continue;
            }
            var negated = pattern.StartsWith('!');
            var p = negated ? pattern[1..] : pattern;
            if (!PatternMatches(p, name)) continue;
            if (negated) return false; // a negated match excludes the line whatever else matches
            hit = true;
        }
        return hit;
    }

    private static bool HashedMatches(string pattern, string name)
    {
        var parts = pattern.Split('|'); // "", "1", salt, hash
        if (parts.Length != 4) return false;
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
            return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name)), expected);
        }
        catch (FormatException) { return false; }
    }

    private static bool PatternMatches(string pattern, string name)
    {
        if (!pattern.Contains('*') && !pattern.Contains('?')) return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
        var regex = "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
        return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}
