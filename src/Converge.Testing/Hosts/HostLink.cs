using System.Globalization;
using System.Net;

namespace Converge.Testing.Hosts;

/// <summary>
/// A veth pair between the machine and one host started with <see cref="HostOptions.PrivateNetwork"/>:
/// the machine end (<see cref="MachineName"/>, <c>cvh</c> + the host's init pid, unique while the host
/// lives) holds the first address of a link-local /30, the host end is the host's <c>eth0</c> with the
/// second. The host gets no default route: it reaches its own link and nothing else.
/// </summary>
/// <remarks>
/// The pair lives in the host's network namespace by its <c>eth0</c> end: when the host's pid 1 dies the
/// kernel destroys the namespace and with it both ends and their addresses, even if the test process
/// died first. <see cref="WaitGoneAsync"/> checks exactly that after a teardown.
/// Addresses are chosen by the tests, always inside 169.254.0.0/16 (never 10/8, 172.16/12 or 192.168/16,
/// which may be real networks; never 169.254.169.0/24, where clouds put their metadata service), and are
/// refused when a route of the machine already covers them. Do not point a test at a link-local address
/// outside a live /30: with no route of its own it would follow the machine's default route, and the
/// gateway of these machines accepts any TCP connection.
/// </remarks>
public sealed class HostLink
{
    /// <summary>The host end's name, inside the host.</summary>
    public const string HostInterface = "eth0";

    // Blocks handed out in this process; the route check covers other processes (another test run).
    private static readonly HashSet<uint> Reserved = [];

    private readonly int _hostPid;

    private HostLink(string machineName, IPAddress machineAddress, IPAddress hostAddress, int hostPid)
    {
        _hostPid = hostPid;
        MachineName = machineName;
        MachineAddress = machineAddress;
        HostAddress = hostAddress;
    }

    /// <summary>The machine end's interface name (in the machine's network namespace).</summary>
    public string MachineName { get; }

    /// <summary>The machine end's address (first of the /30).</summary>
    public IPAddress MachineAddress { get; }

    /// <summary>The host's address on its <c>eth0</c> (second of the /30).</summary>
    public IPAddress HostAddress { get; }

    /// <summary>
    /// Creates the pair for <paramref name="host"/> on the /30 starting at <paramref name="block"/>
    /// (e.g. <c>169.254.41.4</c>): the machine end gets .1 of it, the host's <c>eth0</c> .2; both up.
    /// </summary>
    public static async Task<HostLink> AttachAsync(ThrowawayHost host, IPAddress block)
    {
        if (!host.Options.PrivateNetwork)
            throw new InvalidOperationException($"host {host.Options.Hostname} shares the machine's network: a link needs HostOptions.PrivateNetwork");
        var network = CheckBlock(block);
        Reserve(network);
        var name = "cvh" + host.InitPid.ToString(CultureInfo.InvariantCulture);
        var machineAddress = ToAddress(network + 1);
        var hostAddress = ToAddress(network + 2);
        try
        {
            var netns = $"/proc/{host.InitPid}/ns/net";
            if (new FileInfo(netns).LinkTarget == new FileInfo("/proc/self/ns/net").LinkTarget)
                throw new InvalidOperationException($"host {host.Options.Hostname} is in the machine's network namespace");
            // One process for the whole pair: machine end created, addressed and up, then the host end
            // (moved into the host's namespace at creation, so it never appears on the machine) configured
            // from inside that namespace. A failure removes the pair (deleting one end deletes both).
            var script = """
                set -e
                ip link add "$1" type veth peer name eth0 netns "$2"
                trap 'ip link del "$1" 2>/dev/null' EXIT
                ip addr add "$3/30" dev "$1"
                ip link set "$1" up
                nsenter --net="/proc/$2/ns/net" ip addr add "$4/30" dev eth0
                nsenter --net="/proc/$2/ns/net" ip link set eth0 up
                trap - EXIT
                """;
            await MachineCommand.CheckAsync(["/bin/sh", "-c", script, "sh", name, host.InitPid.ToString(CultureInfo.InvariantCulture),
                machineAddress.ToString(), hostAddress.ToString()], timeout: TimeSpan.FromSeconds(30));
            return new HostLink(name, machineAddress, hostAddress, host.InitPid);
        }
        catch
        {
            Release(network);
            throw;
        }
    }

    /// <summary>Whether the machine end exists on the machine.</summary>
    public bool ExistsOnMachine => Directory.Exists("/sys/class/net/" + MachineName);

    /// <summary>
    /// Takes the link down or up at the host's end: while down, the machine's route to the /30 stays (marked
    /// linkdown) and connections to the host time out — an unreachable host. (Not the machine end: its route
    /// would go, and the machine's default gateway would answer instead.)
    /// </summary>
    public Task SetUpAsync(bool up) =>
        MachineCommand.CheckAsync(["nsenter", $"--net=/proc/{_hostPid}/ns/net", "ip", "link", "set", HostInterface, up ? "up" : "down"]);

    /// <summary>
    /// After the host's teardown: waits until the kernel has destroyed the pair with the host's network
    /// namespace (namespace cleanup runs asynchronously), then frees the addresses. If the machine end is
    /// still there after <paramref name="timeout"/>, deletes it and throws: the namespace outlived its host.
    /// </summary>
    public async Task WaitGoneAsync(TimeSpan timeout)
    {
        var network = ToUInt(HostAddress) & ~3u;
        var deadline = DateTime.UtcNow + timeout;
        while (ExistsOnMachine && DateTime.UtcNow < deadline) await Task.Delay(20);
        if (ExistsOnMachine)
        {
            await MachineCommand.RunAsync(["ip", "link", "del", MachineName]);
            Release(network);
            throw new InvalidOperationException($"link {MachineName} was still on the machine {timeout.TotalSeconds:0.#} s after its host's teardown; deleted it");
        }
        Release(network);
    }

    /// <summary>The /30 network of <paramref name="block"/>, or an error saying why it is not allowed.</summary>
    internal static uint CheckBlock(IPAddress block)
    {
        var bytes = block.GetAddressBytes();
        if (bytes.Length != 4 || bytes[0] != 169 || bytes[1] != 254)
            throw new ArgumentException($"{block}: host links use link-local addresses (169.254.x.y) only");
        if (bytes[2] is 0 or 255 or 169)
            throw new ArgumentException($"{block}: 169.254.0.x and 169.254.255.x are reserved (RFC 3927) and 169.254.169.x is where clouds serve metadata; pick another third octet");
        if (bytes[3] % 4 != 0)
            throw new ArgumentException($"{block}: a /30 block starts at a multiple of 4 (e.g. {bytes[0]}.{bytes[1]}.{bytes[2]}.{bytes[3] / 4 * 4})");
        return ToUInt(block);
    }

    private static void Reserve(uint network)
    {
        lock (Reserved)
        {
            if (Reserved.Contains(network))
                throw new InvalidOperationException($"{ToAddress(network)}/30 is already used by another host of this test run; give each fleet its own addresses");
            if (MachineRouteOverlapping(network) is { } route)
                throw new InvalidOperationException($"{ToAddress(network)}/30 overlaps the machine's route {route}: another fleet (another test run?) or a real network uses it");
            Reserved.Add(network);
        }
    }

    private static void Release(uint network)
    {
        lock (Reserved) Reserved.Remove(network);
    }

    /// <summary>A route of the machine's main table (not the default route) that covers part of the /30, as "dest/len dev".</summary>
    private static string? MachineRouteOverlapping(uint network)
    {
        // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses in host byte order hex.
        foreach (var line in File.ReadLines("/proc/net/route").Skip(1))
        {
            var f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (f.Length < 8) continue;
            var dest = FromRouteHex(f[1]);
            var mask = FromRouteHex(f[7]);
            if (mask == 0) continue;
            var common = mask & 0xFFFFFFFCu;
            if ((dest & common) == (network & common))
                return $"{ToAddress(dest)}/{System.Numerics.BitOperations.PopCount(mask)} dev {f[0]}";
        }
        return null;
    }

    private static uint FromRouteHex(string hex)
    {
        var raw = BitConverter.GetBytes(uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        if (!BitConverter.IsLittleEndian) Array.Reverse(raw);
        return (uint)(raw[0] << 24 | raw[1] << 16 | raw[2] << 8 | raw[3]);
    }

    internal static uint ToUInt(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    internal static IPAddress ToAddress(uint value) =>
        new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
}
