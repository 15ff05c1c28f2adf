using System.Net;
using System.Runtime.InteropServices;

namespace Converge.Machine.Native;

/// <summary>One network interface's addresses, as getifaddrs(3) reports them.</summary>
internal sealed record InterfaceAddressList(string Name, bool IsUp, bool IsLoopback, List<IPAddress> Ipv4, List<IPAddress> Ipv6)
{
    public byte[]? Mac { get; set; }
}

/// <summary>
/// Interface addresses in one getifaddrs(3) call. System.Net.NetworkInformation reads resolv.conf,
/// routes and DHCP leases for every interface on first use, which costs far more than the facts
/// budget; this reads only what the <c>networking</c> fact shows.
/// </summary>
internal static unsafe class InterfaceAddresses
{
    private const ushort AF_INET = 2;
    private const ushort AF_INET6 = 10;
    private const ushort AF_PACKET = 17;
    private const uint IFF_UP = 0x1;
    private const uint IFF_LOOPBACK = 0x8;

    /// <summary>Every interface, in the order the kernel lists them.</summary>
    /// <exception cref="IOException">getifaddrs failed.</exception>
    public static List<InterfaceAddressList> Read()
    {
        IfAddrs* list;
        if (LibC.GetIfAddrs(&list) != 0) throw Errno.Last("getifaddrs", "(network interfaces)");
        try
        {
            var byName = new Dictionary<string, InterfaceAddressList>(StringComparer.Ordinal);
            var ordered = new List<InterfaceAddressList>();
            for (var entry = list; entry != null; entry = entry->Next)
            {
                var name = Marshal.PtrToStringUTF8((nint)entry->Name) ?? "";
                if (!byName.TryGetValue(name, out var nic))
                {
                    nic = new InterfaceAddressList(name, (entry->Flags & IFF_UP) != 0, (entry->Flags & IFF_LOOPBACK) != 0, [], []);
                    byName[name] = nic;
                    ordered.Add(nic);
                }
                if (entry->Address == null) continue;
                // sockaddr: sa_family (native u16) first, then the family's own layout.
                var family = *(ushort*)entry->Address;
                switch (family)
                {
                    case AF_INET: // sockaddr_in: family, port, 4-byte address
                        nic.Ipv4.Add(new IPAddress(new ReadOnlySpan<byte>(entry->Address + 4, 4)));
                        break;
                    case AF_INET6: // sockaddr_in6: family, port, flowinfo, 16-byte address, scope id
                        nic.Ipv6.Add(new IPAddress(new ReadOnlySpan<byte>(entry->Address + 8, 16)));
                        break;
                    case AF_PACKET: // sockaddr_ll: family, protocol, ifindex, hatype, pkttype, halen, addr[8]
                        var length = entry->Address[11];
                        if (length is > 0 and <= 8) nic.Mac = new ReadOnlySpan<byte>(entry->Address + 12, length).ToArray();
                        break;
                }
            }
            return ordered;
        }
        finally
        {
            LibC.FreeIfAddrs(list);
        }
    }
}
