using System.Security.Cryptography;
using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>
/// What a throwaway host must not change on the machine: the mount table, the user and package
/// databases, the fixture's temp dirs, systemd hosts' cgroups, and the processes this test process started.
/// </summary>
internal sealed record MachineSnapshot(string Mounts, string Databases, string HostDirs, string HostCgroups, HashSet<(int Pid, long Start)> Processes)
{
    private static readonly string[] Files = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/hostname", "/etc/hosts", "/var/lib/dpkg/status"];

    public static MachineSnapshot Take() => new(
        File.ReadAllText("/proc/self/mounts"),
        string.Join("\n", Files.Select(f => File.Exists(f) ? $"{Md5(f)}  {f}" : $"missing {f}")),
        string.Join("\n", Directory.GetDirectories("/tmp", "converge-host-*").Order()),
        string.Join("\n", ThrowawayHost.HostCgroups()),
        ListProcesses());

    public static string Md5(string path) => Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(path)));

    /// <summary>
    /// Processes that exist now but did not at <paramref name="before"/> and descend from this test
    /// process. Other processes on the machine (other test runs, builds) come and go on their own.
    /// </summary>
    public List<string> NewDescendants(MachineSnapshot before)
    {
        var self = Environment.ProcessId;
        var result = new List<string>();
        foreach (var p in Processes.Where(p => !before.Processes.Contains(p)))
        {
            for (var pid = p.Pid; pid > 1; pid = Stat(pid)?.Parent ?? 0)
                if (pid == self && p.Pid != self)
                {
                    result.Add($"{p.Pid} {Comm(p.Pid)}");
                    break;
                }
        }
        return result;
    }

    private static HashSet<(int, long)> ListProcesses()
    {
        var set = new HashSet<(int, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } s)
                set.Add((pid, s.Start));
        return set;
    }

    private static (int Parent, long Start)? Stat(int pid)
    {
        try
        {
            // "pid (comm) state ppid ... starttime(field 22)"; comm may contain spaces and parentheses.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1]), long.Parse(fields[19]));
        }
        catch (IOException) { return null; }
    }

    private static string Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return "?"; }
    }
}
