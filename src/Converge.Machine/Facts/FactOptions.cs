namespace Converge.Machine.Facts;

/// <summary>Where the <see cref="FactGatherer"/> looks; the defaults describe this host.</summary>
public sealed record FactOptions
{
    /// <summary>
    /// Files such as <c>etc/os-release</c>, <c>proc/meminfo</c> and <c>sys/class/dmi/id/*</c> are read
    /// below this directory ("/" by default), so tests can point the gatherer at a prepared tree.
    /// Network interfaces and the CPU's hypervisor signature always come from the running kernel.
    /// </summary>
    public string RootDirectory { get; init; } = "/";

    /// <summary>The external facts directory; null means <c>&lt;root&gt;/etc/converge/facts.d</c>.</summary>
    public string? FactsDirectory { get; init; }

    /// <summary>Pretend to be this host (<c>--node NAME</c>): sets <c>hostname</c> and <c>fqdn</c>.</summary>
    public string? Hostname { get; init; }

    /// <summary>How long one executable external fact may run before it is killed and reported.</summary>
    public TimeSpan ExternalFactTimeout { get; init; } = TimeSpan.FromSeconds(10);

    internal string PathOf(string relative) => Path.Join(RootDirectory, relative);

    internal string ResolvedFactsDirectory => FactsDirectory ?? PathOf("etc/converge/facts.d");
}
