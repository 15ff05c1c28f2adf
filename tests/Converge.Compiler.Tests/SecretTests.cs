using System.Text.Json.Nodes;
using Converge.Compiler.Catalog;
using Converge.Compiler.Compilation;

namespace Converge.Compiler.Tests;

public class SecretTests
{
    private const string DbPassword = "s3cr3t-db-pw";
    private const string ApiToken = "tok-0123456789";

    private static TableSecrets Source(TempRepo repo)
    {
        var s = new TableSecrets();
        s.Env["DB_PASSWORD"] = DbPassword;
        s.Files[repo.PathOf("api.token")] = ApiToken;
        return s;
    }

    [Fact]
    public void Compile_SecretsFromEnvAndFile_TaintWhatReadsThem()
    {
        using var repo = new TempRepo()
            .Write("templates/app.conf.sbn", "user=app\npassword={{ secrets.db }}\n")
            .Write("templates/plain.sbn", "user=app\n")
            .Write("site.yaml", """
                secrets:
                  db: { env: DB_PASSWORD }
                  token: { env: API_TOKEN, file: api.token }
                vars:
                  dsn: "postgres://app:{{ secrets.db }}@db"
                resources:
                  - file: /etc/app.conf
                    template: app.conf.sbn
                    mode: "0600"
                  - file: /etc/plain.conf
                    template: plain.sbn
                  - exec: call-api
                    command: ["curl", "-H", "Authorization: {{ secrets.token }}", "https://x"]
                    env: { DSN: "{{ vars.dsn }}", HOME: /root }
                """);
        var source = Source(repo);
        var catalog = repo.Compile(configure: r => r with { Secrets = source }).ShouldSucceed();

        catalog.SecretValues.ShouldBe([DbPassword, ApiToken], ignoreOrder: true);
        var app = catalog.Resource("file[/etc/app.conf]");
        app.Properties["content"].Sensitive.ShouldBeTrue();
        app.Properties["mode"].Sensitive.ShouldBeFalse();
        catalog.Resource("file[/etc/plain.conf]").Properties["content"].Sensitive.ShouldBeFalse();

        var exec = catalog.Resource("exec[call-api]");
        var command = exec.Properties["command"].ShouldBeOfType<ListValue>();
        command.Items.Select(i => i.Sensitive).ShouldBe([false, false, true, false]);
        var env = exec.Properties["env"].ShouldBeOfType<MapValue>();
        env["DSN"]!.Sensitive.ShouldBeTrue();
        env["HOME"]!.Sensitive.ShouldBeFalse();
    }

    [Fact]
    public void Compile_SecretThroughParam_StaysTainted()
    {
        using var repo = new TempRepo()
            .Write("modules/db/module.yaml", """
                params:
                  password: { type: string }
                resources:
                  - exec: set-password
                    command: "setpw {{ params.password }}"
                    other: "{{ params | object.keys | array.size }}"
                """)
            .Write("site.yaml", """
                secrets:
                  db: { env: DB_PASSWORD }
                include:
                  - db: { password: "{{ secrets.db }}" }
                """);
        var source = Source(repo);
        var r = repo.Compile(configure: c => c with { Secrets = source }).ShouldSucceed().Resources.Single();
        r.Properties["command"].Sensitive.ShouldBeTrue();
    }

    [Fact]
    public void Compile_ModuleSecrets_AreReadRelativeToModuleAndLocal()
    {
        using var repo = new TempRepo()
            .Write("modules/db/module.yaml", """
                secrets:
                  root_pw: { file: files/root.pw }
                resources:
                  - exec: set-root
                    command: "setpw {{ secrets.root_pw }} {{ secrets.db }}"
                """)
            .Write("site.yaml", """
                secrets:
                  db: { env: DB_PASSWORD }
                include: [db]
                resources:
                  - exec: outside
                    command: "{{ secrets.root_pw }}"
                """);
        var source = Source(repo);
        source.Files[repo.PathOf("modules/db/files/root.pw")] = "root-secret";
        var result = repo.Compile(configure: r => r with { Secrets = source });
        var d = result.ShouldFailWith(CompilerCodes.ExpressionError);
        d.Resource.ShouldBe("exec[outside]");
        d.Message.ShouldContain("'secrets' has no member 'root_pw'");
        result.Diagnostics.Count.ShouldBe(1);
    }

    [Fact]
    public void Compile_MemberOfScalar_SaysItIsNotAMap()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            secrets:
              db: { env: DB_PASSWORD }
            resources:
              - exec: x
                command: "{{ secrets.db.nope }}"
            """);
        var source = Source(repo);
        var d = repo.Compile(configure: r => r with { Secrets = source }).ShouldFailWith(CompilerCodes.ExpressionError);
        d.Message.ShouldContain("no member 'nope' here");
        d.Message.ShouldNotContain(DbPassword);
    }

    [Fact]
    public void Compile_MissingSecret_NamesSecretAndDeclaration()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            secrets:
              db: { env: DB_PASSWORD }
              missing: { env: NOT_SET, file: /nonexistent/secret }
            """);
        var source = Source(repo);
        var d = repo.Compile(configure: r => r with { Secrets = source }).ShouldFailWith(CompilerCodes.SecretMissing);
        d.Message.ShouldContain("'missing'");
        d.Message.ShouldContain("NOT_SET");
        d.Message.ShouldContain("/nonexistent/secret");
        d.Span.Line.ShouldBe(3);
    }

    [Fact]
    public void Compile_MissingSecretUsedTwice_IsReportedOnceNotPerUse()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            secrets:
              missing: { env: NOT_SET }
            resources:
              - file: /etc/a
                content: "{{ secrets.missing }}"
              - file: /etc/b
                content: "token={{ secrets.missing }}"
            """);
        var result = repo.Compile(configure: r => r with { Secrets = Source(repo) });
        result.Catalog.ShouldBeNull();
        result.Diagnostics.ShouldHaveSingleItem().Code.ShouldBe(CompilerCodes.SecretMissing);
    }

    [Fact]
    public void Compile_SecretInErrors_IsNeverShown()
    {
        using var repo = new TempRepo()
            .Write("modules/db/module.yaml", "params:\n  port: { type: int }\nresources: []\n")
            .Write("site.yaml", """
                secrets:
                  db: { env: DB_PASSWORD }
                include:
                  - db: { port: "{{ secrets.db }}" }
                resources:
                  - exec: x
                    require: "{{ secrets.db }}"
                  - exec: y
                    command: "{{ secrets.db | math.plus 1 }} {{ secrets.db.nope }}"
                  - exec: z
                    command: "{{ secrets.db + 1 }}"
                """);
        var source = Source(repo);
        var result = repo.Compile(configure: r => r with { Secrets = source });
        result.Catalog.ShouldBeNull();
        result.Diagnostics.Count.ShouldBeGreaterThanOrEqualTo(3);
        foreach (var d in result.Diagnostics) d.ToString().ShouldNotContain(DbPassword);
    }

    [Fact]
    public void Compile_SecretTitle_IsRefused()
    {
        using var repo = new TempRepo().Write("site.yaml", """
            secrets:
              db: { env: DB_PASSWORD }
            resources:
              - file: "/etc/{{ secrets.db }}"
            """);
        var source = Source(repo);
        var d = repo.Compile(configure: r => r with { Secrets = source }).ShouldFailWith(CompilerCodes.SecretInIdentity);
        d.ToString().ShouldNotContain(DbPassword);
    }

    [Fact]
    public void CatalogJson_SensitiveValues_AreRedacted()
    {
        using var repo = new TempRepo()
            .Write("templates/app.conf.sbn", "password={{ secrets.db }}\n")
            .Write("site.yaml", """
                secrets:
                  db: { env: DB_PASSWORD }
                resources:
                  - file: /etc/app.conf
                    template: app.conf.sbn
                    mode: "0600"
                    env: { PW: "{{ secrets.db }}", USER: app }
                  - file: /etc/private
                    sensitive: true
                    content: not a secret but sensitive
                """);
        var source = Source(repo);
        var catalog = repo.Compile(configure: r => r with { Secrets = source }).ShouldSucceed();
        var json = CatalogJson.Write(catalog);
        json.ShouldNotContain(DbPassword);
        json.ShouldNotContain("not a secret but sensitive");

        var doc = JsonNode.Parse(json)!;
        var props = doc["resources"]![0]!["properties"]!;
        props["content"]!.GetValue<string>().ShouldBe(Value.Redacted);
        props["mode"]!.GetValue<string>().ShouldBe("0600");
        props["env"]!["PW"]!.GetValue<string>().ShouldBe(Value.Redacted);
        props["env"]!["USER"]!.GetValue<string>().ShouldBe("app");
        doc["resources"]![1]!["sensitive"]!.GetValue<bool>().ShouldBeTrue();
        doc["resources"]![1]!["properties"]!["content"]!.GetValue<string>().ShouldBe(Value.Redacted);
    }

    [Fact]
    public void EnvironmentAndFileSecretSource_File_DropsTrailingNewline()
    {
        using var repo = new TempRepo().Write("pw", "hunter22\n");
        var source = new Converge.Compiler.Secrets.EnvironmentAndFileSecretSource();
        source.ReadFile(repo.PathOf("pw")).ShouldBe("hunter22");
        source.ReadFile(repo.PathOf("nope")).ShouldBeNull();
    }
}
