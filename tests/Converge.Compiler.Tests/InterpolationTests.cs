using Converge.Compiler.Catalog;
using Converge.Compiler.Compilation;

namespace Converge.Compiler.Tests;

public class InterpolationTests
{
    [Fact]
    public void Compile_Interpolation_SeesVarsFactsAndNode()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars:
              port: 8080
              base: /srv
              app: "{{ vars.base }}/app"
            resources:
              - file: "{{ vars.app }}/{{ node }}.conf"
                content: "os={{ facts.os.family }} cpus={{ facts.cpus }} port={{ vars.port + 1 }} virtual={{ facts.virtual }}"
                plain: 644
            """);
        var r = repo.Compile().ShouldSucceed().Resources.Single();
        r.Title.ShouldBe("/srv/app/web-1.conf");
        r.Text("content").ShouldBe("os=debian cpus=4 port=8081 virtual=false");
        var content = (ScalarValue)r.Properties["content"];
        content.Quoted.ShouldBeTrue();
        var plain = (ScalarValue)r.Properties["plain"];
        plain.Quoted.ShouldBeFalse();
        plain.Text.ShouldBe("644");
    }

    [Fact]
    public void Compile_WholeExpressionThatIsNull_IsYamlNull_AlsoThroughVars()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars:
              m: "{{ { a: 1, b: null } }}"
            resources:
              - file: /etc/x
                owner: "{{ vars.m.b }}"
                mode: "{{ null }}"
                content: "b={{ vars.m.b }}"
            """);
        var r = repo.Compile().ShouldSucceed().Resources.Single();
        ((ScalarValue)r.Properties["owner"]).IsNull.ShouldBeTrue();
        ((ScalarValue)r.Properties["mode"]).IsNull.ShouldBeTrue();
        r.Text("content").ShouldBe("b=");
    }

    [Fact]
    public void Compile_IndexerWithMissingName_SuggestsMember()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars:
              known: { shell: 1 }
            resources:
              - file: /etc/x
                content: "{{ $f = 'shel'; vars.known[$f] }}"
            """);
        var d = repo.Compile().ShouldFailWith(CompilerCodes.ExpressionError);
        d.Message.ShouldContain("'vars.known' has no member 'shel'; did you mean 'shell'?");
    }

    [Fact]
    public void Compile_SingleExpressionWithTrailingNewline_KeepsTheNewline()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars:
              name: web
            resources:
              - file: /etc/x
                content: "{{ vars.name }}\n"
              - file: /etc/y
                content: "{{ vars.name }}"
            """);
        var resources = repo.Compile().ShouldSucceed().Resources;
        resources[0].Text("content").ShouldBe("web\n");
        resources[1].Text("content").ShouldBe("web");
    }

    [Fact]
    public void Compile_WholeExpressionYieldingList_BecomesList()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars:
              groups: [adm, sudo]
              settings: { a: 1, b: two }
            resources:
              - file: /etc/x
                groups: "{{ vars.groups }}"
                settings: "{{ vars.settings }}"
                count: "{{ vars.groups | array.size }}"
                nested: ["{{ vars.groups }}", "x-{{ vars.groups[0] }}"]
            """);
        var r = repo.Compile().ShouldSucceed().Resources.Single();
        r.Properties["groups"].ShouldBeOfType<ListValue>().Items.Cast<ScalarValue>().Select(i => i.Text).ShouldBe(["adm", "sudo"]);
        var settings = r.Properties["settings"].ShouldBeOfType<MapValue>();
        settings["b"].ShouldBeOfType<ScalarValue>().Text.ShouldBe("two");
        r.Text("count").ShouldBe("2");
        var nested = r.Properties["nested"].ShouldBeOfType<ListValue>();
        nested.Items[0].ShouldBeOfType<ListValue>();
        nested.Items[1].ShouldBeOfType<ScalarValue>().Text.ShouldBe("x-adm");
    }

    [Fact]
    public void Compile_UndefinedVariable_ReportsAtExpressionColumn()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/x
                content: "hello {{ fatcs.os }}"
            """);
        var d = repo.Compile().ShouldFailWith(CompilerCodes.ExpressionError);
        d.Resource.ShouldBe("file[/etc/x]");
        d.Message.ShouldContain("undefined variable 'fatcs'");
        d.Message.ShouldContain("did you mean 'facts'?");
        d.Span.Line.ShouldBe(3);
        // `    content: "hello {{ fatcs.os }}"`: the quote is column 14, so `fatcs` starts at column 24.
        d.Span.Column.ShouldBe(24);
    }

    [Fact]
    public void Compile_UndefinedMember_SuggestsMember()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/x
                content: "{{ facts.os.familly }}"
            """);
        var d = repo.Compile().ShouldFailWith(CompilerCodes.ExpressionError);
        d.Message.ShouldContain("'facts.os' has no member 'familly'; did you mean 'family'?");
        d.Span.Line.ShouldBe(3);
    }

    [Fact]
    public void Compile_ExpressionSyntaxError_IsReported()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/x
                content: "a {{ vars. }} b"
            """);
        var d = repo.Compile().ShouldFailWith(CompilerCodes.ExpressionSyntax);
        d.Span.Line.ShouldBe(3);
    }

    [Fact]
    public void Compile_ForEachList_OneResourcePerItem()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: "/etc/{{ item }}.conf"
                for_each: [a, b, c]
                content: "name={{ item }}"
                when: item != "b"
            """);
        var catalog = repo.Compile().ShouldSucceed();
        catalog.Resources.Select(r => r.Title).ShouldBe(["/etc/a.conf", "/etc/c.conf"]);
        catalog.Resources[1].Text("content").ShouldBe("name=c");
    }

    [Fact]
    public void Compile_ForEachMap_ExposesKeyAndItem()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars:
              users:
                alice: { uid: 1001 }
                bob: { uid: 1002 }
            resources:
              - directory: "/home/{{ key }}"
                for_each: "{{ vars.users }}"
                owner: "{{ item.uid }}"
            """);
        var catalog = repo.Compile().ShouldSucceed();
        catalog.Resources.Select(r => $"{r.Title}:{r.Text("owner")}").ShouldBe(["/home/alice:1001", "/home/bob:1002"]);
    }

    [Fact]
    public void Compile_ForEachString_IsWrongForm()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: "/etc/{{ item }}"
                for_each: just-a-string
            """);
        repo.Compile().ShouldFailWith(CompilerCodes.BadForEach).Message.ShouldContain("got a string");
    }

    [Fact]
    public void Compile_ForEachSameTitle_IsDuplicate()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - file: /etc/same
                for_each: [1, 2]
            """);
        repo.Compile().ShouldFailWith(CompilerCodes.DuplicateResource).Message.ShouldContain("'for_each' produced this id more than once");
    }

    [Fact]
    public void Compile_InterpolatedReferences_AreParsed()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            vars: { pkg: nginx, deps: ["file[/a]", "file[/b]"] }
            resources:
              - exec: reload
                require: ["file[/etc/{{ vars.pkg }}]", "{{ vars.deps }}"]
                notify: "exec[other]"
                tags: [web, "{{ vars.pkg }}"]
                noop: "{{ 1 == 1 }}"
            """);
        var r = repo.Compile().ShouldSucceed().Resources.Single();
        r.Require.Select(x => x.Target.ToString()).ShouldBe(["file[/etc/nginx]", "file[/a]", "file[/b]"]);
        r.Notify.Single().Target.ShouldBe(new ResourceId("exec", "other"));
        r.Tags.ShouldBe(["web", "nginx"]);
        r.Noop.ShouldBeTrue();
        r.Properties.ShouldBeEmpty();
    }

    [Fact]
    public void Compile_MalformedReference_NamesKeyAndExpectedForm()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            resources:
              - exec: reload
                before: File[x]
            """);
        var d = repo.Compile().ShouldFailWith(CompilerCodes.MalformedReference);
        d.Message.ShouldContain("'before' must be a reference like 'package[nginx]'");
        d.Resource.ShouldBe("exec[reload]");
    }

    [Fact]
    public void Compile_DivideByZero_IsADiagnosticNotACrash()
    {
        using var repo = new TempRepo().Write("site.yaml", "resources:\n  - exec: x\n    command: \"{{ 1 / 0 }} {{ 1 % 0 }}\"\n");
        var result = repo.Compile();
        result.Catalog.ShouldBeNull();
        result.Diagnostics.ShouldNotBeEmpty();
        result.Diagnostics.ShouldAllBe(d => d.Code == CompilerCodes.ExpressionError && d.Resource == "exec[x]");
    }
}
