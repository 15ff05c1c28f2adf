using Converge.Compiler.Catalog;
using Converge.Compiler.Compilation;

namespace Converge.Compiler.Tests;

public class FileTests
{
    [Fact]
    public void Compile_Template_RendersIntoContentAtTemplateKey()
    {
        using var repo = new TempRepo()
            .Write("modules/nginx/templates/nginx.conf.sbn", "worker_processes {{ params.workers }};\n{{ for p in params.ports }}listen {{ p }};\n{{ end }}")
            .Write("modules/nginx/module.yaml", """
                params:
                  workers: { type: int, default: 4 }
                  ports: { type: list, default: [80, 443] }
                resources:
                  - file: /etc/nginx/nginx.conf
                    mode: "0644"
                    template: nginx.conf.sbn
                """)
            .Write("site.yaml", "include: [nginx]\n");
        var result = repo.Compile();
        var r = result.ShouldSucceed().Resources.Single();
        r.Properties.Keys.ShouldBe(["mode", "content"]);
        r.Text("content").ShouldBe("worker_processes 4;\nlisten 80;\nlisten 443;\n");
        r.Properties["content"].Span.ShouldBe(r.PropertyKeySpans["content"]);
        r.PropertyKeySpans["content"].Line.ShouldBe(7);
        result.SourceFiles.ShouldContain(repo.PathOf("modules/nginx/templates/nginx.conf.sbn"));
    }

    [Fact]
    public void Compile_TemplateSyntaxError_ReportsTemplateFileLine()
    {
        using var repo = new TempRepo()
            .Write("templates/motd.sbn", "line one\nline two {{ if }}\n")
            .Write("site.yaml", "resources:\n  - file: /etc/motd\n    template: motd.sbn\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.TemplateSyntax);
        d.Span.File.ShouldBe(repo.PathOf("templates/motd.sbn"));
        d.Span.Line.ShouldBe(2);
        d.Resource.ShouldBe("file[/etc/motd]");
    }

    [Fact]
    public void Compile_TemplateUndefinedVariable_ReportsTemplateFileLineAndColumn()
    {
        using var repo = new TempRepo()
            .Write("templates/motd.sbn", "hello\n  {{ vars.nope }}\n")
            .Write("site.yaml", "resources:\n  - file: /etc/motd\n    template: motd.sbn\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.TemplateRender);
        d.Span.File.ShouldBe(repo.PathOf("templates/motd.sbn"));
        d.Span.Line.ShouldBe(2);
        d.Message.ShouldContain("'vars' has no member 'nope'");
        d.Resource.ShouldBe("file[/etc/motd]");
    }

    [Fact]
    public void Compile_TemplateAndContent_IsAnError()
    {
        using var repo = new TempRepo()
            .Write("templates/motd.sbn", "x")
            .Write("site.yaml", "resources:\n  - file: /etc/motd\n    content: x\n    template: motd.sbn\n");
        repo.Compile().ShouldFailWith(CompilerCodes.ContentAndTemplate);
    }

    [Theory]
    [InlineData("../../site.yaml")]
    [InlineData("/etc/passwd")]
    [InlineData("link.sbn")]
    public void Compile_TemplateEscapingModuleDir_IsAnError(string name)
    {
        using var repo = new TempRepo()
            .Write("modules/m/module.yaml", $"resources:\n  - file: /etc/x\n    template: \"{name}\"\n")
            .Write("secret.txt", "outside")
            .Write("site.yaml", "include: [m]\n");
        Directory.CreateDirectory(repo.PathOf("modules/m/templates"));
        File.CreateSymbolicLink(repo.PathOf("modules/m/templates/link.sbn"), repo.PathOf("secret.txt"));
        repo.Compile().ShouldFailWith(CompilerCodes.PathEscapes).Resource.ShouldBe("file[/etc/x]");
    }

    [Fact]
    public void Compile_TemplateSymlinkInsideDir_IsAllowed()
    {
        using var repo = new TempRepo()
            .Write("templates/real/motd.sbn", "hi {{ node }}")
            .Write("site.yaml", "resources:\n  - file: /etc/motd\n    template: motd.sbn\n");
        File.CreateSymbolicLink(repo.PathOf("templates/motd.sbn"), repo.PathOf("templates/real/motd.sbn"));
        repo.Compile().ShouldSucceed().Resources.Single().Text("content").ShouldBe("hi web-1");
    }

    [Fact]
    public void Compile_TemplateInclude_ReadsPartialFromTemplatesDir()
    {
        using var repo = new TempRepo()
            .Write("modules/m/templates/header.sbn", "# managed for {{ node }}\n")
            .Write("modules/m/templates/main.sbn", "{{ include 'header.sbn' }}body\n")
            .Write("modules/m/module.yaml", "resources:\n  - file: /etc/x\n    template: main.sbn\n")
            .Write("site.yaml", "include: [m]\n");
        var result = repo.Compile();
        result.ShouldSucceed().Resources.Single().Text("content").ShouldBe("# managed for web-1\nbody\n");
        result.SourceFiles.ShouldContain(repo.PathOf("modules/m/templates/header.sbn"));
    }

    [Fact]
    public void Compile_TemplateIncludeEscaping_IsReportedInTemplate()
    {
        using var repo = new TempRepo()
            .Write("templates/main.sbn", "line\n{{ include '../site.yaml' }}\n")
            .Write("site.yaml", "resources:\n  - file: /etc/x\n    template: main.sbn\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.TemplateRender);
        d.Span.File.ShouldBe(repo.PathOf("templates/main.sbn"));
        d.Span.Line.ShouldBe(2);
        d.Message.ShouldContain("outside the templates directory");
    }

    [Fact]
    public void Compile_TemplateMissing_IsNotFound()
    {
        using var repo = new TempRepo()
            .Write("templates/motd.sbn", "x")
            .Write("site.yaml", "resources:\n  - file: /etc/motd\n    template: mtod.sbn\n");
        repo.Compile().ShouldFailWith(CompilerCodes.TemplateNotFound).Message.ShouldContain("did you mean 'motd.sbn'?");
    }

    [Fact]
    public void Compile_Source_ResolvesToAbsolutePathUnderFiles()
    {
        using var repo = new TempRepo()
            .Write("modules/m/files/app.bin", "data")
            .Write("modules/m/module.yaml", "resources:\n  - file: /opt/app.bin\n    source: app.bin\n")
            .Write("site.yaml", "include: [m]\n");
        var result = repo.Compile();
        result.ShouldSucceed().Resources.Single().Text("source").ShouldBe(repo.PathOf("modules/m/files/app.bin"));
        result.SourceFiles.ShouldContain(repo.PathOf("modules/m/files/app.bin"));
    }

    [Fact]
    public void Compile_SourceEscaping_IsAnError()
    {
        using var repo = new TempRepo()
            .Write("files/ok", "x")
            .Write("site.yaml", "resources:\n  - file: /a\n    source: ../site.yaml\n");
        repo.Compile().ShouldFailWith(CompilerCodes.PathEscapes).Span.Line.ShouldBe(3);
    }

    [Fact]
    public void Compile_SourceMissing_IsAnError()
    {
        using var repo = new TempRepo().Write("site.yaml", "resources:\n  - file: /a\n    source: nope\n");
        repo.Compile().ShouldFailWith(CompilerCodes.SourceNotFound);
    }
}
