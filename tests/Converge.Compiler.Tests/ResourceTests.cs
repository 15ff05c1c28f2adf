using Converge.Compiler.Catalog;
using Converge.Compiler.Compilation;

namespace Converge.Compiler.Tests;

public class ResourceTests
{
    [Fact]
    public void Compile_DuplicateIds_ReportsSecondAndMentionsFirst()
    {
        using var repo = new TempRepo()
            .Write("modules/motd/module.yaml", "resources:\n  - file: /etc/motd\n")
            .Write("site.yaml", "include: [motd]\nresources:\n  - file: /etc/motd\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.DuplicateResource);
        d.Resource.ShouldBe("file[/etc/motd]");
        d.Span.File.ShouldEndWith("site.yaml");
        d.Span.Line.ShouldBe(3);
        d.Message.ShouldContain(Path.Combine(repo.Root, "modules", "motd", "module.yaml") + ":2:5");
        d.Message.ShouldContain("module 'motd'");
    }

    [Fact]
    public void Compile_UnknownType_SuggestsClosest()
    {
        using var repo = new TempRepo().Write("site.yaml", "resources:\n  - flie: /etc/motd\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.UnknownResourceType);
        d.Message.ShouldContain("did you mean 'file'?");
        d.Span.Line.ShouldBe(2);
        d.Span.Column.ShouldBe(5);
    }

    [Fact]
    public void Compile_NonScalarTitle_IsBadResource()
    {
        using var repo = new TempRepo().Write("site.yaml", "resources:\n  - file: [a, b]\n");
        repo.Compile().ShouldFailWith(CompilerCodes.BadResource);
    }

    [Fact]
    public void Compile_SensitiveResource_MarksEveryValue()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/key
                sensitive: true
                content: plain text
                lines: [a, b]
            """);
        var r = repo.Compile().ShouldSucceed().Resources.Single();
        r.Sensitive.ShouldBeTrue();
        r.Properties.Values.ShouldAllBe(v => v.Sensitive);
        r.Properties["lines"].ShouldBeOfType<ListValue>().Items.ShouldAllBe(v => v.Sensitive);
    }

    [Fact]
    public void Compile_PropertyKeySpans_AreKept()
    {
        using var repo = new TempRepo().Write("site.yaml", "resources:\n  - file: /etc/x\n    mode: \"0644\"\n");
        var r = repo.Compile().ShouldSucceed().Resources.Single();
        r.PropertyKeySpans["mode"].Line.ShouldBe(3);
        r.PropertyKeySpans["mode"].Column.ShouldBe(5);
        r.TitleSpan.Column.ShouldBe(11);
    }
}
