using System.Text;
using Converge.Manifests.Diagnostics;
using Converge.Remote;
using Converge.Testing;

namespace Converge.Remote.Tests;

public class InventoryTests
{
    private static readonly Inventory.Fallback Fallback = new("operator");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Golden.CasesDirectory(), "inventory")).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    /// <summary>Each case's inventory.yaml parses to the hosts (with merged vars) or errors in its expected.txt.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_GoldenCase_MatchesExpected(string name)
    {
        var dir = Path.Combine(Golden.CasesDirectory(), "inventory", name);
        var path = Path.Combine(dir, "inventory.yaml");
        var diagnostics = new DiagnosticBag();
        var hosts = Inventory.Parse(path, File.ReadAllText(path), Fallback, diagnostics);

        var text = new StringBuilder();
        var source = File.ReadAllText(path);
        var renderer = new DiagnosticRenderer(_ => source);
        foreach (var d in diagnostics.Sorted())
            text.AppendLine(renderer.Render(d with { Span = d.Span with { File = "inventory.yaml" } }));
        foreach (var h in hosts)
        {
            text.AppendLine($"{h.Name}: {h.Endpoint} become={h.Become.ToString().ToLowerInvariant()} node={h.Node}");
            text.AppendLine($"  identity: {h.IdentityFile?.Replace(dir, "<dir>").Replace(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "<home>")}");
            text.AppendLine($"  groups: [{string.Join(", ", h.Groups)}]");
            text.AppendLine($"  vars: {h.Vars.ToJsonString()}");
        }
        Golden.Verify($"inventory/{name}/expected.txt", text.ToString());
        (hosts.Count == 0).ShouldBe(diagnostics.HasErrors);
    }

    [Theory]
    [InlineData("10.1.2.3", "operator@10.1.2.3:22", "10.1.2.3")]
    [InlineData("root@10.1.2.3", "root@10.1.2.3:22", "10.1.2.3")]
    [InlineData("deploy@web-01:2222", "deploy@web-01:2222", "web-01:2222")]
    [InlineData("web-01:22", "operator@web-01:22", "web-01")]
    [InlineData("root@[fe80::1]:2200", "root@[fe80::1]:2200", "fe80::1:2200")]
    [InlineData("[::1]", "operator@[::1]:22", "::1")]
    public void ParseTarget_ValidForms_GiveEndpoint(string target, string endpoint, string name)
    {
        var host = Inventory.ParseTarget(target, Fallback, out var error).ShouldNotBeNull(error);
        host.Endpoint.ShouldBe(endpoint);
        host.Name.ShouldBe(name);
        host.Node.ShouldBeNull(); // ad-hoc hosts compile under their own hostname
    }

    [Theory]
    [InlineData("root@", "'root@' is not a host: write host, user@host, host:port or user@host:port")]
    [InlineData("@web", "'@web' is not a host: write host, user@host, host:port or user@host:port")]
    [InlineData("web:0", "'web:0': port must be a number from 1 to 65535")]
    [InlineData("web:http", "'web:http': port must be a number from 1 to 65535")]
    [InlineData("[::1", "'[::1': missing ']' after an IPv6 address")]
    [InlineData("[::1]x", "'[::1]x': expected ':PORT' after ']'")]
    public void ParseTarget_Malformed_SaysWhy(string target, string message)
    {
        Inventory.ParseTarget(target, Fallback, out var error).ShouldBeNull();
        error.ShouldBe(message);
    }

    [Fact]
    public void Limit_GlobsAndExclusionsOnNamesAndGroups_SelectHosts()
    {
        var dir = Path.Combine(Golden.CasesDirectory(), "inventory", "full");
        var path = Path.Combine(dir, "inventory.yaml");
        var hosts = Inventory.Parse(path, File.ReadAllText(path), Fallback, new DiagnosticBag());
        Names(Inventory.Limit(hosts, "web-*")).ShouldBe(["web-01", "web-02"]);
        Names(Inventory.Limit(hosts, "web-*,!web-02")).ShouldBe(["web-01"]);
        Names(Inventory.Limit(hosts, "eu")).ShouldBe(["web-01"]);
        Names(Inventory.Limit(hosts, "!web")).ShouldBe(["db-01", "bare"]);
        Names(Inventory.Limit(hosts, "db-0?,bare")).ShouldBe(["db-01", "bare"]);
        Names(Inventory.Limit(hosts, "nothing-*")).ShouldBeEmpty();
        Names(Inventory.Limit(hosts, null)).Count.ShouldBe(4);
    }

    private static List<string> Names(IEnumerable<InventoryHost> hosts) => hosts.Select(h => h.Name).ToList();
}
