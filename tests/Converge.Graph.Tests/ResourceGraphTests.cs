using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;

namespace Converge.Graph.Tests;

public class ResourceGraphTests
{
    private static IEnumerable<AutoRequire> NoAuto(CatalogResource _) => [];

    private static ResourceGraph Build(CatalogBuilder b, Func<CatalogResource, IEnumerable<AutoRequire>>? auto = null)
    {
        var bag = new DiagnosticBag();
        var g = ResourceGraph.Build(b.Build(), auto ?? NoAuto, bag);
        bag.Sorted().ShouldBeEmpty();
        return g!;
    }

    [Fact]
    public void Order_NoEdges_IsSortedById()
    {
        var g = Build(new CatalogBuilder().Add("file[/b]").Add("exec[z]").Add("file[/a]"));
        g.Order.Select(i => i.ToString()).ShouldBe(["exec[z]", "file[/a]", "file[/b]"]);
    }

    [Fact]
    public void Order_RequireBeforeNotifySubscribe_AllOrderTheRun()
    {
        var g = Build(new CatalogBuilder()
            .Add("exec[a]", require: ["file[/z]"])
            .Add("file[/z]", before: ["exec[y]"])
            .Add("exec[y]", notify: ["exec[x]"])
            .Add("exec[x]")
            .Add("exec[w]", subscribe: ["exec[a]"]));
        var order = g.Order.Select(i => i.ToString()).ToList();
        order.IndexOf("file[/z]").ShouldBeLessThan(order.IndexOf("exec[a]"));
        order.IndexOf("file[/z]").ShouldBeLessThan(order.IndexOf("exec[y]"));
        order.IndexOf("exec[y]").ShouldBeLessThan(order.IndexOf("exec[x]"));
        order.IndexOf("exec[a]").ShouldBeLessThan(order.IndexOf("exec[w]"));
        g.Edges.Where(e => e.Refreshes).Select(e => $"{e.From}->{e.To}").ShouldBe(["exec[a]->exec[w]", "exec[y]->exec[x]"]);
    }

    [Fact]
    public void Build_UnknownReference_ReportsWithSuggestion()
    {
        var bag = new DiagnosticBag();
        var g = ResourceGraph.Build(new CatalogBuilder().Add("file[/etc/motd]").Add("exec[x]", require: ["file[/etc/mtod]"]).Build(), NoAuto, bag);
        g.ShouldBeNull();
        bag.Sorted().ShouldHaveSingleItem().ToString().ShouldBe(
            "site.yaml:2:20: error CVG3001: exec[x]: require refers to file[/etc/mtod], which is not in the catalog for this node; did you mean 'file[/etc/motd]'?");
    }

    [Fact]
    public void Build_Cycle_ListsEveryResourceWithLocation()
    {
        var bag = new DiagnosticBag();
        var g = ResourceGraph.Build(new CatalogBuilder()
            .Add("exec[a]", require: ["exec[c]"])
            .Add("exec[b]", require: ["exec[a]"])
            .Add("exec[c]", require: ["exec[b]"])
            .Add("exec[d]", require: ["exec[c]"])
            .Build(), NoAuto, bag);
        g.ShouldBeNull();
        bag.Sorted().ShouldHaveSingleItem().ToString().ShouldBe(
            "site.yaml:1:3: error CVG3002: exec[a]: dependency cycle between 3 resources: exec[a] (site.yaml:1:3) → exec[b] (site.yaml:2:3) → exec[c] (site.yaml:3:3) → exec[a]; break it by removing one require/before/notify/subscribe");
    }

    [Fact]
    public void Build_TwoCycles_ReportsBoth()
    {
        var bag = new DiagnosticBag();
        ResourceGraph.Build(new CatalogBuilder()
            .Add("exec[a]", require: ["exec[b]"]).Add("exec[b]", require: ["exec[a]"])
            .Add("exec[c]", require: ["exec[d]"]).Add("exec[d]", require: ["exec[c]"])
            .Build(), NoAuto, bag);
        bag.Sorted().Select(d => d.Resource).ShouldBe(["exec[a]", "exec[c]"]);
    }

    [Fact]
    public void AutoRequire_FirstExistingCandidate_BecomesEdge()
    {
        var g = Build(new CatalogBuilder().Add("file[/etc/app/conf.d/x.conf]").Add("directory[/etc/app]"),
            r => r.Id.Title.StartsWith("/etc/app/")
                ? [new AutoRequire([new("directory", "/etc/app/conf.d"), new("directory", "/etc/app"), new("directory", "/etc")])]
                : []);
        var e = g.Edges.ShouldHaveSingleItem();
        (e.From.ToString(), e.To.ToString(), e.Kind).ShouldBe(("directory[/etc/app]", "file[/etc/app/conf.d/x.conf]", EdgeKind.Auto));
    }

    [Fact]
    public void ExclusiveKey_SameKey_ChainsInRunOrderWithoutCycles()
    {
        var bag = new DiagnosticBag();
        var g = ResourceGraph.Build(new CatalogBuilder()
                .Add("line[b]")
                .Add("line[a]", require: ["line[c]"])
                .Add("line[c]")
                .Add("line[other]")
                .Build(),
            NoAuto, bag,
            r => r.Id.Title == "other" ? "path:/etc/other" : "path:/etc/ssh/sshd_config");
        bag.Sorted().ShouldBeEmpty();
        g!.Edges.Where(e => e.Kind == EdgeKind.Serial).Select(e => $"{e.From}->{e.To}")
            .ShouldBe(["line[b]->line[c]", "line[c]->line[a]"]);
        g.Order.Select(i => i.ToString()).ShouldBe(["line[b]", "line[c]", "line[a]", "line[other]"]);
    }

    [Fact]
    public void SelectByTags_IncludesTaggedAndTheirRequirements()
    {
        var g = Build(new CatalogBuilder()
            .Add("file[/a]")
            .Add("file[/b]", require: ["file[/a]"], tags: ["web"])
            .Add("file[/c]", tags: ["db"]));
        g.SelectByTags(["web"]).Select(i => i.ToString()).Order().ShouldBe(["file[/a]", "file[/b]"]);
    }

    [Fact]
    public void Formats_Dot_IsDeterministicAndMarksKinds()
    {
        var g = Build(new CatalogBuilder().Add("file[/a]", notify: ["exec[r]"]).Add("exec[r]"));
        GraphFormats.ToDot(g).ShouldBe(
            "digraph converge {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n" +
            "  \"file[/a]\";\n  \"exec[r]\";\n" +
            "  \"file[/a]\" -> \"exec[r]\" [color=\"#c0392b\", label=\"notify\"];\n}\n");
        GraphFormats.ToMermaid(g).ShouldContain("r0 ==>|notify| r1");
        GraphFormats.ToJson(g).ShouldContain("\"kind\": \"notify\"");
    }
}

public class ResourceIdTests
{
    [Theory]
    [InlineData("file[/a]", "file[/b]")]
    [InlineData("file2[/a]", "file[/a]")]
    [InlineData("file[/a]", "file_x[/a]")]
    [InlineData("exec[a]", "exec[a b]")]
    [InlineData("exec[a]", "exec[a]")]
    [InlineData("a[x]", "ab[x]")]
    [InlineData("file[/a]", "file[/a-b]")]
    [InlineData("file[/a]", "file[/a/b]")]
    [InlineData("file[x]", "file[x]y]")]
    [InlineData("file[x]]", "file[x]]]")]
    [InlineData("file[/etc/motd]", "file[/etc/motd]")]
    public void CompareTo_MatchesOrdinalOrderOfTextForm(string left, string right)
    {
        ResourceId.TryParse(left, out var l).ShouldBeTrue();
        ResourceId.TryParse(right, out var r).ShouldBeTrue();
        Math.Sign(l.CompareTo(r)).ShouldBe(Math.Sign(string.CompareOrdinal(left, right)));
        Math.Sign(r.CompareTo(l)).ShouldBe(Math.Sign(string.CompareOrdinal(right, left)));
    }
}
