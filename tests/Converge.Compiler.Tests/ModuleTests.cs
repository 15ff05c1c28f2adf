using Converge.Compiler.Catalog;
using Converge.Compiler.Compilation;

namespace Converge.Compiler.Tests;

public class ModuleTests
{
    private const string Nginx = """
        params:
          workers: { type: int, default: 2 }
          server_name: { type: string, required: true }
          ssl: { type: bool, default: false }
          ports: { type: list, default: [80] }
        resources:
          - file: /etc/nginx/nginx.conf
            content: "workers={{ params.workers }} name={{ params.server_name }} ssl={{ params.ssl }} next={{ params.workers + 1 }}"
            ports: "{{ params.ports }}"
        """;

    [Fact]
    public void Compile_ModuleParams_AppliesDefaultsAndGivenValues()
    {
        using var repo = new TempRepo()
            .Write("modules/nginx/module.yaml", Nginx)
            .Write("site.yaml", """
                nodes:
                  - match: "web-*"
                    include:
                      - nginx: { server_name: example.org, ports: [80, 443] }
                """);
        var catalog = repo.Compile().ShouldSucceed();

        catalog.Modules.ShouldBe(["nginx"]);
        var conf = catalog.Resource("file[/etc/nginx/nginx.conf]");
        conf.Text("content").ShouldBe("workers=2 name=example.org ssl=false next=3");
        conf.Properties["ports"].ShouldBeOfType<ListValue>().Items.Cast<ScalarValue>().Select(i => i.Text).ShouldBe(["80", "443"]);
        conf.Module.ShouldBe("nginx");
        conf.Tags.ShouldContain("nginx");
        conf.BaseDirectory.ShouldBe(repo.PathOf("modules/nginx"));
    }

    [Fact]
    public void Compile_RequiredParamMissing_NamesParamAtIncludeSite()
    {
        using var repo = new TempRepo()
            .Write("modules/nginx/module.yaml", Nginx)
            .Write("site.yaml", "include:\n  - nginx\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.MissingParam);
        d.Message.ShouldContain("'server_name'");
        d.Span.File.ShouldEndWith("site.yaml");
        d.Span.Line.ShouldBe(2);
    }

    [Fact]
    public void Compile_ParamWrongType_ReportsAtValue()
    {
        using var repo = new TempRepo()
            .Write("modules/nginx/module.yaml", Nginx)
            .Write("site.yaml", "include:\n  - nginx: { server_name: x, workers: four, ports: 80 }\n");
        var result = repo.Compile();
        result.Catalog.ShouldBeNull();
        var errors = result.Diagnostics.Where(d => d.Code == CompilerCodes.ParamTypeMismatch).ToList();
        errors.Count.ShouldBe(2);
        errors[0].Message.ShouldContain("'workers' of module 'nginx' must be an int");
        errors[0].Span.Column.ShouldBe(39);
        errors[1].Message.ShouldContain("must be a list");
    }

    [Fact]
    public void Compile_UnknownParam_SuggestsClosest()
    {
        using var repo = new TempRepo()
            .Write("modules/nginx/module.yaml", Nginx)
            .Write("site.yaml", "include:\n  - nginx: { server_name: x, wrokers: 4 }\n");
        repo.Compile().ShouldFailWith(CompilerCodes.UnknownParam).Message.ShouldContain("did you mean 'workers'?");
    }

    [Fact]
    public void Compile_NestedIncludes_PassParamsDown()
    {
        using var repo = new TempRepo()
            .Write("modules/base/module.yaml", """
                params:
                  admin: { type: string }
                include:
                  - users: { names: ["{{ params.admin }}", deploy] }
                resources:
                  - directory: /etc/base
                """)
            .Write("modules/users/module.yaml", """
                params:
                  names: { type: list }
                resources:
                  - file: "/home/{{ item }}/.profile"
                    for_each: "{{ params.names }}"
                """)
            .Write("site.yaml", "include:\n  - base: { admin: alice }\n");
        var catalog = repo.Compile().ShouldSucceed();
        catalog.Modules.ShouldBe(["base", "users"]);
        catalog.Resources.Select(r => r.Id.ToString()).ShouldBe(
            ["file[/home/alice/.profile]", "file[/home/deploy/.profile]", "directory[/etc/base]"]);
    }

    [Fact]
    public void Compile_IncludeCycle_IsAnError()
    {
        using var repo = new TempRepo()
            .Write("modules/a/module.yaml", "include: [b]\n")
            .Write("modules/b/module.yaml", "include: [a]\n")
            .Write("site.yaml", "include: [a]\n");
        repo.Compile().ShouldFailWith(CompilerCodes.IncludeCycle).Message.ShouldContain("a -> b -> a");
    }

    [Fact]
    public void Compile_ModuleNotFound_NamesSiteAndWhereItLooked()
    {
        using var repo = new TempRepo()
            .Write("modules/nginx/module.yaml", "resources: []\n")
            .Write("site.yaml", "include:\n  - ngnix\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.ModuleNotFound);
        d.Span.Line.ShouldBe(2);
        d.Message.ShouldContain(Path.Combine(repo.Root, "modules", "ngnix", "module.yaml"));
        d.Message.ShouldContain("did you mean 'nginx'?");
    }

    [Fact]
    public void Compile_ShippedModules_AreSearchedAfterRepoModules()
    {
        using var repo = new TempRepo()
            .Write("shipped/ntp/module.yaml", "resources:\n  - file: /etc/shipped-ntp\n")
            .Write("shipped/base/module.yaml", "resources:\n  - file: /etc/shipped-base\n")
            .Write("site/modules/base/module.yaml", "resources:\n  - file: /etc/repo-base\n")
            .Write("site/site.yaml", "include: [base, ntp]\n");
        var catalog = repo.Compile(path: repo.PathOf("site"),
            configure: r => r with { ModuleSearchPath = [repo.PathOf("shipped")] }).ShouldSucceed();
        catalog.Resources.Select(r => r.Title).ShouldBe(["/etc/repo-base", "/etc/shipped-ntp"]);
    }

    [Fact]
    public void Compile_SameModuleTwiceSameParams_CompilesOnce()
    {
        using var repo = new TempRepo()
            .Write("modules/ntp/module.yaml", "params:\n  server: { default: pool.ntp.org }\nresources:\n  - file: /etc/ntp.conf\n")
            .Write("modules/base/module.yaml", "include: [ntp]\n")
            .Write("site.yaml", "include:\n  - base\n  - ntp: { server: pool.ntp.org }\n");
        repo.Compile().ShouldSucceed().Resources.Count.ShouldBe(1);
    }

    [Fact]
    public void Compile_SameModuleTwiceDifferentParams_NamesBothSites()
    {
        using var repo = new TempRepo()
            .Write("modules/ntp/module.yaml", "params:\n  server: { default: pool.ntp.org }\nresources:\n  - file: /etc/ntp.conf\n")
            .Write("site.yaml", "include:\n  - ntp\n  - ntp: { server: time.example.org }\n");
        var d = repo.Compile().ShouldFailWith(CompilerCodes.ConflictingInclude);
        d.Span.Line.ShouldBe(3);
        d.Message.ShouldContain("site.yaml:2:5");
    }

    [Fact]
    public void Compile_ModuleVars_AreLocalAndSeeParams()
    {
        using var repo = new TempRepo()
            .Write("modules/app/module.yaml", """
                params:
                  name: { type: string }
                vars:
                  dir: "/opt/{{ params.name }}"
                resources:
                  - directory: "{{ vars.dir }}"
                  - file: "{{ vars.dir }}/{{ vars.site_wide }}"
                """)
            .Write("site.yaml", """
                vars: { site_wide: conf }
                include:
                  - app: { name: shop }
                resources:
                  - file: "/etc/{{ vars.dir }}"
                """);
        var result = repo.Compile();
        result.ShouldFailWith(CompilerCodes.ExpressionError).Message.ShouldContain("'vars' has no member 'dir'");
    }
}
