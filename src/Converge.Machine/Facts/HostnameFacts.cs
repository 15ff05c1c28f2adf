namespace Converge.Machine.Facts;

/// <summary>
/// <c>hostname</c>, <c>fqdn</c> and <c>domain</c>. The fqdn comes from /etc/hosts, never from DNS: facts
/// are gathered at the start of every run, and a slow or absent resolver must not stall it.
/// </summary>
internal static class HostnameFacts
{
    public static (string Hostname, string Fqdn, string? Domain) Read(FactOptions options)
    {
        var name = options.Hostname
            ?? HostFiles.ReadLine(options.PathOf("etc/hostname"))
            ?? HostFiles.ReadLine(options.PathOf("proc/sys/kernel/hostname"))
            ?? Environment.MachineName;
        var dot = name.IndexOf('.');
        var shortName = dot < 0 ? name : name[..dot];
        var fqdn = dot >= 0 ? name : FromHosts(HostFiles.ReadText(options.PathOf("etc/hosts")) ?? "", shortName) ?? name;
        var fqdnDot = fqdn.IndexOf('.');
        return (shortName, fqdn, fqdnDot < 0 ? null : fqdn[(fqdnDot + 1)..]);
    }

    /// <summary>
    /// The dotted name on the first hosts line that lists <paramref name="shortName"/> (as the canonical
    /// name or an alias): the canonical name if dotted (as <c>hostname -f</c> does), else an alias of the
    /// form <c>short.domain</c>; null when no line lists it.
    /// </summary>
    public static string? FromHosts(string hosts, string shortName)
    {
        var prefix = shortName + ".";
        foreach (var raw in hosts.Split('\n'))
        {
            var hash = raw.IndexOf('#');
            var fields = (hash < 0 ? raw : raw[..hash]).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2) continue;
            var names = fields.AsSpan(1);
            var listed = false;
            foreach (var n in names)
                if (n == shortName || n.StartsWith(prefix, StringComparison.Ordinal)) listed = true;
            if (!listed) continue;
            if (names[0].Contains('.')) return names[0]; // what `hostname -f` answers

            foreach (var n in names)
                if (n.StartsWith(prefix, StringComparison.Ordinal)) return n;
        }
        return null;
    }
}
