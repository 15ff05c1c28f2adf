using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Converge.Machine.Facts;

/// <summary>
/// Gathers the facts of this host once per run: built-in facts read straight from files and kernel
/// APIs (no processes spawned, a few milliseconds), then external facts from facts.d.
/// </summary>
public sealed class FactGatherer
{
    private readonly FactOptions _options;
    private readonly ISystem _system;

    /// <summary>A gatherer for this host with default options.</summary>
    public FactGatherer() : this(new FactOptions()) { }

    /// <summary>
    /// A gatherer reading below <see cref="FactOptions.RootDirectory"/>; executable external facts run
    /// through <paramref name="system"/> (a <see cref="LocalSystem"/> when null).
    /// </summary>
    public FactGatherer(FactOptions options, ISystem? system = null)
    {
        _options = options;
        _system = system ?? new LocalSystem();
    }

    /// <summary>
    /// Returns <c>os, kernel, architecture, hostname, fqdn, domain, networking, processors, memory,
    /// virtualization, init</c> plus external facts. Never throws for a missing system file (that fact is
    /// null) or a broken external fact (that is a warning); throws only <see cref="OperationCanceledException"/>
    /// when <paramref name="ct"/> is cancelled while external facts run.
    /// </summary>
    public async Task<GatheredFacts> GatherAsync(CancellationToken ct)
    {
        var warnings = new List<string>();
        var facts = GatherBuiltIn(warnings);
        await ExternalFacts.MergeAsync(facts, _options, _system, warnings, ct).ConfigureAwait(false);
        return new GatheredFacts(facts, warnings);
    }

    private JsonObject GatherBuiltIn(List<string> warnings)
    {
        var (hostname, fqdn, domain) = HostnameFacts.Read(_options);
        return new JsonObject
        {
            ["os"] = OsReleaseFacts.Read(_options),
            ["kernel"] = KernelFacts.Read(_options),
            ["architecture"] = KernelFacts.DebianArchitecture(RuntimeInformation.OSArchitecture),
            ["hostname"] = hostname,
            ["fqdn"] = fqdn,
            ["domain"] = domain,
            ["networking"] = Networking(warnings),
            ["processors"] = HardwareFacts.Processors(_options),
            ["memory"] = HardwareFacts.Memory(_options),
            ["virtualization"] = VirtualizationFacts.Read(_options),
            ["init"] = VirtualizationFacts.Init(_options),
        };
    }

    private JsonObject? Networking(List<string> warnings)
    {
        try
        {
            return NetworkFacts.Read(_options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Some sandboxes hide the interfaces; the run can still go on without network facts.
            warnings.Add($"networking: cannot list interfaces: {e.Message}");
            return null;
        }
    }
}
