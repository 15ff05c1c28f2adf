using Converge.Machine.Facts;

namespace Converge.Machine.Tests.Facts;

public sealed class FactParsingTests
{
    [Theory]
    [InlineData("debian", null, "debian")]
    [InlineData("ubuntu", "debian", "debian")]
    [InlineData("linuxmint", "ubuntu debian", "debian")]
    [InlineData("rocky", "rhel centos fedora", "redhat")]
    [InlineData("opensuse-leap", "suse opensuse", "suse")]
    [InlineData("alpine", null, "alpine")]
    public void Family_IdAndIdLike_MapsToFamily(string id, string? idLike, string family)
    {
        OsReleaseFacts.Family(id, idLike).ShouldBe(family);
    }

    [Fact]
    public void Parse_QuotedValues_Unquoted()
    {
        var values = OsReleaseFacts.Parse("A=\"x \\\"y\\\"\"\nB='z'\nC=plain\n#D=no\n");

        values.ShouldBe(new Dictionary<string, string> { ["A"] = "x \"y\"", ["B"] = "z", ["C"] = "plain" });
    }

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1", 2)]
    [InlineData("0-3,8,10-11", 7)]
    [InlineData("garbage", null)]
    public void CountCpuList_KernelList_Counts(string list, int? count)
    {
        HardwareFacts.CountCpuList(list).ShouldBe(count);
    }

    [Fact]
    public void DefaultRouteInterface_RouteTable_PicksLowestMetricDefault()
    {
        const string table = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
            + "eth1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n"
            + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
            + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

        NetworkFacts.DefaultRouteInterface(table).ShouldBe("eth0");
    }

    [Theory]
    [InlineData("127.0.1.1 web1.example.com web1", "web1", "web1.example.com")]
    [InlineData("10.0.0.1 web1 web1.corp.example", "web1", "web1.corp.example")]
    [InlineData("10.0.0.1 other.example.com other", "web1", null)]
    public void FromHosts_HostsLine_FindsFqdn(string hosts, string shortName, string? fqdn)
    {
        HostnameFacts.FromHosts(hosts, shortName).ShouldBe(fqdn);
    }

    [Theory]
    [InlineData("QEMU", "Standard PC (i440FX + PIIX, 1996)", "kvm")]
    [InlineData("VMware, Inc.", "VMware Virtual Platform", "vmware")]
    [InlineData("Microsoft Corporation", "Virtual Machine", "hyperv")]
    [InlineData("innotek GmbH", "VirtualBox", "virtualbox")]
    [InlineData("Dell Inc.", "PowerEdge R640", null)]
    public void FromDmi_VendorAndProduct_NamesHypervisor(string vendor, string product, string? hypervisor)
    {
        VirtualizationFacts.FromDmi(vendor, product).ShouldBe(hypervisor);
    }
}
