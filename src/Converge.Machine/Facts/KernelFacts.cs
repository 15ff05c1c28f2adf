using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Converge.Machine.Facts;

/// <summary><c>kernel</c> and <c>architecture</c>.</summary>
internal static class KernelFacts
{
    public static JsonObject Read(FactOptions options) => new()
    {
        ["name"] = "Linux",
        ["release"] = HostFiles.ReadLine(options.PathOf("proc/sys/kernel/osrelease")),
        ["version"] = HostFiles.ReadLine(options.PathOf("proc/sys/kernel/version")),
    };

    /// <summary>The architecture as Debian names it (what <c>dpkg --print-architecture</c> says), since packages are named so.</summary>
    public static string DebianArchitecture(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.X86 => "i386",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "armhf",
        Architecture.Armv6 => "armel",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64el",
        Architecture.LoongArch64 => "loong64",
        Architecture.RiscV64 => "riscv64",
        _ => architecture.ToString().ToLowerInvariant(),
    };
}
