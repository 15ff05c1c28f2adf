using System.Runtime.Intrinsics.X86;
using System.Text;
using System.Text.Json.Nodes;

namespace Converge.Machine.Facts;

/// <summary><c>virtualization</c> and <c>init</c>: what this host runs inside, and what runs as pid 1.</summary>
internal static class VirtualizationFacts
{
    /// <summary><c>{container, hypervisor}</c>, each a lowercase name or null when not detected.</summary>
    public static JsonObject Read(FactOptions options) => new()
    {
        ["container"] = Container(options),
        ["hypervisor"] = Hypervisor(options),
    };

    /// <summary>"systemd" when pid 1 is systemd (so services are managed through systemctl), else "other".</summary>
    public static string Init(FactOptions options) =>
        HostFiles.ReadLine(options.PathOf("proc/1/comm")) == "systemd" ? "systemd" : "other";

    /// <summary>
    /// The container manager, checked in the order systemd-detect-virt trusts them: the file systemd's
    /// container managers write, pid 1's <c>container=</c> variable, then the marker files of docker and podman.
    /// </summary>
    public static string? Container(FactOptions options)
    {
        if (HostFiles.ReadLine(options.PathOf("run/systemd/container")) is { } systemd) return systemd;
        if (HostFiles.ReadText(options.PathOf("proc/1/environ")) is { } environ)
            foreach (var variable in environ.Split('\0'))
                if (variable.StartsWith("container=", StringComparison.Ordinal) && variable.Length > "container=".Length)
                    return variable["container=".Length..];
        if (File.Exists(options.PathOf(".dockerenv"))) return "docker";
        if (File.Exists(options.PathOf("run/.containerenv"))) return "podman";
        return null;
    }

    /// <summary>
    /// The hypervisor, from DMI (firmware strings), then /sys/hypervisor, then the CPU's hypervisor
    /// vendor signature; "unknown" when /proc/cpuinfo flags a hypervisor that none of these name.
    /// </summary>
    public static string? Hypervisor(FactOptions options)
    {
        var vendor = HostFiles.ReadLine(options.PathOf("sys/class/dmi/id/sys_vendor"));
        var product = HostFiles.ReadLine(options.PathOf("sys/class/dmi/id/product_name"));
        if (FromDmi(vendor, product) is { } dmi) return dmi;
        if (HostFiles.ReadLine(options.PathOf("sys/hypervisor/type")) is { } type) return type;
        if (FromCpuid() is { } cpuid) return cpuid;
        var cpuinfo = HostFiles.ReadText(options.PathOf("proc/cpuinfo")) ?? "";
        return cpuinfo.Split('\n').Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Split(' ').Contains("hypervisor"))
            ? "unknown"
            : null;
    }

    public static string? FromDmi(string? vendor, string? product)
    {
        var v = vendor ?? "";
        var p = product ?? "";
        if (p.Contains("KVM", StringComparison.Ordinal) || v.StartsWith("QEMU", StringComparison.Ordinal)) return "kvm";
        if (v.StartsWith("Amazon EC2", StringComparison.Ordinal) || v == "Google") return "kvm";
        if (v.StartsWith("VMware", StringComparison.Ordinal) || p.StartsWith("VMware", StringComparison.Ordinal)) return "vmware";
        if (v == "innotek GmbH" || p == "VirtualBox") return "virtualbox";
        if (v == "Microsoft Corporation" && p == "Virtual Machine") return "hyperv";
        if (v == "Xen" || p.StartsWith("HVM domU", StringComparison.Ordinal)) return "xen";
        if (v.StartsWith("Parallels", StringComparison.Ordinal)) return "parallels";
        if (p == "BHYVE") return "bhyve";
        return null;
    }

    /// <summary>CPUID leaf 0x40000000 carries the hypervisor's 12-byte signature when leaf 1 flags one.</summary>
    private static string? FromCpuid()
    {
        if (!X86Base.IsSupported) return null;
        var (_, _, features, _) = X86Base.CpuId(1, 0);
        if ((features & (1 << 31)) == 0) return null;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0x40000000, 0);
        Span<byte> signature = stackalloc byte[12];
        BitConverter.TryWriteBytes(signature, ebx);
        BitConverter.TryWriteBytes(signature[4..], ecx);
        BitConverter.TryWriteBytes(signature[8..], edx);
        return Encoding.ASCII.GetString(signature).TrimEnd('\0') switch
        {
            "KVMKVMKVM" => "kvm",
            "Microsoft Hv" => "hyperv",
            "VMwareVMware" => "vmware",
            "XenVMMXenVMM" => "xen",
            "VBoxVBoxVBox" => "virtualbox",
            "TCGTCGTCGTCG" => "qemu",
            "bhyve bhyve " => "bhyve",
            "ACRNACRNACRN" => "acrn",
            " lrpepyh  vr" => "parallels",
            _ => null,
        };
    }
}
