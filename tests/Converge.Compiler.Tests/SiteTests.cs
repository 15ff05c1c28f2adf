using Converge.Compiler.Catalog;
using Converge.Compiler.Compilation;

namespace Converge.Compiler.Tests;

public class SiteTests
{
    [Fact]
    public void Compile_SingleManifestFile_BuildsCatalogInOrder()
    {
        using var repo = new TempRepo().Write("motd.yaml", """
            vars:
              greeting: hello
            resources:
              - directory: /etc/app
              - file: /etc/app/motd
                content: "{{ vars.greeting }} {{ node }}"
                mode: "0644"
                require: directory[/etc/app]
            """);
        var catalog = repo.Compile(path: repo.PathOf("motd.yaml")).ShouldSucceed();

        catalog.Node.ShouldBe("web-1");
        catalog.Resources.Select(r => r.Id.ToString()).ShouldBe(["directory[/etc/app]", "file[/etc/app/motd]"]);
        var motd = catalog.Resource("file[/etc/app/motd]");
        motd.Text("content").ShouldBe("hello web-1");
        motd.Properties.Keys.ShouldBe(["content", "mode"]);
        motd.Require.Single().Target.ShouldBe(new ResourceId("directory", "/etc/app"));
        motd.Span.Line.ShouldBe(5);
        motd.Module.ShouldBeNull();
        motd.BaseDirectory.ShouldBe(repo.Root);
        ((ScalarValue)motd.Properties["mode"]).Quoted.ShouldBeTrue();
    }

    [Fact]
    public void Compile_SingleManifestFile_IncludesModulesBesideIt()
    {
        using var repo = new TempRepo()
            .Write("ops/modules/motd/module.yaml", "params:\n  text: { type: string }\nresources:\n  - file: /etc/motd\n    content: \"{{ params.text }}\"\n")
            .Write("ops/one.yaml", "include:\n  - motd: { text: hi }\n");
        var catalog = repo.Compile(path: repo.PathOf("ops/one.yaml")).ShouldSucceed();
        catalog.Resources.Single().Text("content").ShouldBe("hi");
        catalog.Modules.ShouldBe(["motd"]);
    }

    [Fact]
    public void Compile_DirectoryWithoutSite_ReportsCvg2000NamingPath()
    {
        using var repo = new TempRepo();
        var result = repo.Compile();
        var d = result.ShouldFailWith(CompilerCodes.PathProblem);
        d.Message.ShouldContain(repo.Root);
        d.Message.ShouldContain("site.yaml");
    }

    [Fact]
    public void Compile_MissingPath_ReportsCvg2000()
    {
        using var repo = new TempRepo();
        repo.Compile(path: repo.PathOf("nope")).ShouldFailWith(CompilerCodes.PathProblem);
    }

    [Fact]
    public void Compile_Nodes_FirstMatchWins()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/everywhere
            nodes:
              - match: "web-[0-9]"
                resources:
                  - file: /etc/web
              - match: "*"
                resources:
                  - file: /etc/other
            """);
        repo.Compile("web-1").ShouldSucceed().Resources.Select(r => r.Title).ShouldBe(["/etc/everywhere", "/etc/web"]);
        repo.Compile("db-1").ShouldSucceed().Resources.Select(r => r.Title).ShouldBe(["/etc/everywhere", "/etc/other"]);
    }

    [Fact]
    public void Compile_NoNodeMatches_KeepsTopLevelResources()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/everywhere
            nodes:
              - match: "web-*"
                resources:
                  - file: /etc/web
            """);
        repo.Compile("db-1").ShouldSucceed().Resources.Select(r => r.Title).ShouldBe(["/etc/everywhere"]);
    }

    [Fact]
    public void Compile_NodeWhenOnFacts_SelectsByFacts()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            nodes:
              - when: facts.os.family == "redhat"
                resources:
                  - file: /etc/redhat
              - when: "{{ facts.os.family == 'debian' && facts.cpus > 2 }}"
                vars:
                  role: big-debian
                resources:
                  - file: "/etc/{{ vars.role }}"
            """);
        repo.Compile().ShouldSucceed().Resources.Single().Title.ShouldBe("/etc/big-debian");
    }

    [Fact]
    public void Compile_ResourceWhenFalse_DropsResource()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/a
                when: facts.virtual
              - file: /etc/b
                when: false
              - file: /etc/c
                when: facts.os.release >= 12
            """);
        repo.Compile().ShouldSucceed().Resources.Select(r => r.Title).ShouldBe(["/etc/c"]);
    }

    [Fact]
    public void Compile_UnknownTopLevelKey_SuggestsClosest()
    {
        using var repo = new TempRepo().Write("site.yaml", "resorces: []\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.UnknownKey);
        d.Message.ShouldContain("did you mean 'resources'?");
        d.Span.Line.ShouldBe(1);
    }

    [Fact]
    public void Compile_NodeEntryWithoutSelector_IsAnError()
    {
        using var repo = new TempRepo().Write("site.yaml", "nodes:\n  - include: [base]\n");
        repo.Compile().ShouldFailWith(CompilerCodes.NodeEntryWithoutSelector);
    }

    [Fact]
    public void Compile_YamlError_ComesThroughTheBag()
    {
        using var repo = new TempRepo().Write("site.yaml", "resources: [\n");
        repo.Compile().ShouldFailWith("CVG1001");
    }

    [Fact]
    public void Compile_ExtraVars_OverrideSiteVars()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars: { env: dev }
            resources:
              - file: "/etc/{{ vars.env }}"
            """);
        var catalog = repo.Compile(configure: r => r with
        {
            ExtraVars = new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["env"] = "prod" },
        }).ShouldSucceed();
        catalog.Resources.Single().Title.ShouldBe("/etc/prod");
    }

    [Fact]
    public void Compile_SeveralErrors_AreAllReported()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - fiel: /a
              - file: /b
                require: not-a-ref
              - file: /c
                noop: maybe
            """);
        var result = repo.Compile();
        result.Catalog.ShouldBeNull();
        result.Diagnostics.Select(d => d.Code).ShouldBe([CompilerCodes.UnknownResourceType, CompilerCodes.MalformedReference, CompilerCodes.WrongForm]);
    }

    [Fact]
    public void Compile_InvalidGlob_IsWrongForm()
    {
        using var repo = new TempRepo().Write("site.yaml", "nodes:\n  - match: \"web-[z-a]\"\n");
        repo.Compile().ShouldFailWith(CompilerCodes.WrongForm).Span.Line.ShouldBe(2);
    }

    [Fact]
    public void Glob_CharacterClassesAndNegation_Match()
    {
        Glob.IsMatch("web-[0-9]?", "web-1a").ShouldBeTrue();
        Glob.IsMatch("web-[!0-9]", "web-1").ShouldBeFalse();
        Glob.IsMatch("WEB-*", "web-anything").ShouldBeTrue();
        Glob.IsMatch("web.*", "webx1").ShouldBeFalse();
    }
}
