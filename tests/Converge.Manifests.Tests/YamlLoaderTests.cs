using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Manifests.Tests;

public class YamlLoaderTests
{
    private static (SyntaxNode? Root, IReadOnlyList<Diagnostic> Diagnostics) Load(string text)
    {
        var bag = new DiagnosticBag();
        var root = YamlLoader.Load("site.yaml", text, bag);
        return (root, bag.Sorted());
    }

    [Fact]
    public void Load_Mapping_KeepsOneBasedPositions()
    {
        var (root, diags) = Load("resources:\n  - file: /etc/motd\n    mode: \"0644\"\n");
        diags.ShouldBeEmpty();
        var map = root.ShouldBeOfType<MappingNode>();
        var list = map["resources"].ShouldBeOfType<SequenceNode>();
        var res = list.Items[0].ShouldBeOfType<MappingNode>();
        var mode = res["mode"].ShouldBeOfType<ScalarNode>();
        mode.Value.ShouldBe("0644");
        mode.Quoted.ShouldBeTrue();
        mode.Span.ShouldBe(new SourceSpan("site.yaml", 3, 11, 3, 17));
        res.Entry("file")!.Key.Span.Line.ShouldBe(2);
        res.Entry("file")!.Key.Span.Column.ShouldBe(5);
    }

    [Fact]
    public void Load_PlainNumber_IsNotQuoted()
    {
        var (root, _) = Load("mode: 644\n");
        var mode = ((MappingNode)root!)["mode"].ShouldBeOfType<ScalarNode>();
        mode.Quoted.ShouldBeFalse();
        mode.Value.ShouldBe("644");
    }

    [Fact]
    public void Load_DuplicateKey_ReportsBothLocations()
    {
        var (_, diags) = Load("a: 1\nb: 2\na: 3\n");
        var d = diags.ShouldHaveSingleItem();
        d.Code.ShouldBe("CVG1002");
        d.ToString().ShouldBe("site.yaml:3:1: error CVG1002: duplicate key 'a' (first defined at site.yaml:1:1)");
    }

    [Fact]
    public void Load_SyntaxError_ReportsPositionAndReturnsNull()
    {
        var (root, diags) = Load("a: [1, 2\nb: 3\n");
        root.ShouldBeNull();
        var d = diags.ShouldHaveSingleItem();
        d.Code.ShouldBe("CVG1001");
        d.Span.Line.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Load_BillionLaughs_IsRefused()
    {
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 9; i++)
            lines.Add($"a{i}: &a{i} [" + string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10)) + "]");
        var (root, diags) = Load(string.Join("\n", lines) + "\n");
        root.ShouldBeNull();
        diags.ShouldHaveSingleItem().Code.ShouldBe("CVG1003");
    }

    [Fact]
    public void Load_SmallAliases_AreExpanded()
    {
        var (root, diags) = Load("base: &b {mode: \"0644\"}\nother: *b\n");
        diags.ShouldBeEmpty();
        var other = ((MappingNode)root!)["other"].ShouldBeOfType<MappingNode>();
        other["mode"].ShouldBeOfType<ScalarNode>().Value.ShouldBe("0644");
    }

    [Fact]
    public void Load_EmptyFile_IsEmptyMapping()
    {
        var (root, diags) = Load("");
        diags.ShouldBeEmpty();
        root.ShouldBeOfType<MappingNode>().Entries.ShouldBeEmpty();
    }

    [Fact]
    public void Load_SecondDocument_IsAnError()
    {
        var (_, diags) = Load("a: 1\n---\nb: 2\n");
        diags.ShouldHaveSingleItem().Code.ShouldBe("CVG1005");
    }

    [Fact]
    public void Render_ShowsSourceLineWithCarets()
    {
        var d = Diagnostic.Error("CVG4001", new SourceSpan("m.yaml", 2, 11, 2, 14), "mode must be an octal string such as \"0644\"; got 644", "file[/x]");
        var text = new DiagnosticRenderer(_ => "- file: /x\n    mode: 644\n").Render(d);
        text.ShouldBe("m.yaml:2:11: error CVG4001: file[/x]: mode must be an octal string such as \"0644\"; got 644\n 2 |     mode: 644\n   |           ^^^");
    }

    [Theory]
    [InlineData("ensrue", "ensure")]
    [InlineData("cotnent", "content")]
    [InlineData("fiel", "file")]
    public void Suggest_Typo_FindsIntendedName(string typo, string expected)
        => Suggest.Closest(typo, ["ensure", "content", "file", "mode", "owner"]).ShouldBe(expected);

    [Fact]
    public void Suggest_Unrelated_ReturnsNull()
        => Suggest.Closest("zzzzzz", ["ensure", "content"]).ShouldBeNull();
}
