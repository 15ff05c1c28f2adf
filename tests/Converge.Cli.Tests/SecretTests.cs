using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// A secret used in content, a template, a command and an error must never be printed: not on stdout
/// or stderr, not in a report, not in the catalog, not in logs (-v), not in a webhook body (generic
/// or Slack, previews included), whatever the run does.
/// </summary>
public class SecretTests
{
    private const string Secret = "pa55-w0rd-never-print-me";

    /// <summary>A literal in a <c>sensitive: true</c> resource: no secret declares it, the resource does.</summary>
    private const string SensitiveLiteral = "BEGIN-PRIVATE-literal-k3y";

    [Fact]
    public void Secret_AcrossApplyNoopDriftAndFailure_NeverAppearsInAnyOutput()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        using var json = new WebhookListener();
        using var slack = new WebhookListener();
        dir.Write("secret.txt", Secret + "\n");
        var config = dir.Write("converge.yaml", $"""
            notify:
              webhooks:
                - url: {json.Url()}
                  noop: true
                - url: {slack.Url()}
                  format: slack
                  noop: true
            """);
        dir.Write("templates/db.conf.sbn", "user = app\npassword = {{ secrets.db_password }}\n");
        dir.Write("site.yaml", """
            secrets:
              db_password: { file: @DIR@/secret.txt }
              api_token: { env: SECRET_TEST_TOKEN }
            resources:
              - file: @DIR@/db.conf
                template: db.conf.sbn
                mode: "0600"
              - file: @DIR@/token
                content: "{{ secrets.api_token }}\n"
              - file: @DIR@/key.pem
                content: "@KEY@\n"
                mode: "0600"
                sensitive: true
              - exec: use-token
                command: "echo token={{ secrets.api_token }} > @DIR@/used"
                creates: @DIR@/used
              - exec: fail-with-token
                command: "echo {{ secrets.api_token }} >&2; exit 3"
            """.Replace("@DIR@", dir.Path).Replace("@KEY@", SensitiveLiteral));
        var env = new Dictionary<string, string?> { ["SECRET_TEST_TOKEN"] = Secret };
        var outputs = new List<ConvergeRun>();
        ConvergeRun Run(params string[] args)
        {
            string[] notify = args[0] == "apply" ? ["--config", config] : [];
            var run = ConvergeProcess.Run([.. args, "--state-dir", state.Path, "-v", .. notify], environment: env);
            outputs.Add(run);
            return run;
        }

        Run("catalog", dir.Path).ExitCode.ShouldBe(0);
        Run("apply", dir.Path, "--noop").ExitCode.ShouldBe(2);
        Run("apply", dir.Path, "--noop", "--json");
        Run("apply", dir.Path).ExitCode.ShouldBe(6);
        File.ReadAllText(dir["db.conf"]).ShouldContain(Secret); // the host gets the secret, the outputs do not
        File.ReadAllText(dir["key.pem"]).ShouldBe(SensitiveLiteral + "\n");
        File.WriteAllText(dir["db.conf"], "password = tampered\n");
        File.WriteAllText(dir["token"], "stale\n");
        File.WriteAllText(dir["key.pem"], "tampered\n");
        Run("apply", dir.Path, "--noop");
        Run("apply", dir.Path, "--json");
        Run("graph", dir.Path);

        foreach (var run in outputs)
        {
            run.Stdout.ShouldNotContain(Secret);
            run.Stderr.ShouldNotContain(Secret);
            run.Stdout.ShouldNotContain(SensitiveLiteral);
            run.Stderr.ShouldNotContain(SensitiveLiteral);
        }
        outputs.Any(r => r.Stdout.Contains("(redacted)")).ShouldBeTrue();
        outputs.Any(r => r.Stdout.Contains("! exec[fail-with-token]")).ShouldBeTrue(); // the failure was reported, scrubbed
        // Every apply and preview had changes or a failure: each one was sent to both webhooks, and none carried the secret.
        json.Received.Count.ShouldBe(5);
        slack.Received.Count.ShouldBe(5);
        foreach (var request in json.Received.Concat(slack.Received))
        {
            request.Body.ShouldNotContain(Secret);
            request.Body.ShouldNotContain(SensitiveLiteral);
        }
        json.Received.ShouldContain(r => r.Body.Contains("\"id\":\"exec[fail-with-token]\"") && r.Body.Contains("(redacted)"),
            "the failure's message went out, scrubbed");

        // Every file Converge wrote for itself, except the backup bucket (which must keep contents to restore them).
        foreach (var file in Directory.EnumerateFiles(state.Path, "*", SearchOption.AllDirectories))
            if (!file.StartsWith(Path.Combine(state.Path, "bucket") + "/", StringComparison.Ordinal))
            {
                File.ReadAllText(file).ShouldNotContain(Secret, customMessage: file);
                File.ReadAllText(file).ShouldNotContain(SensitiveLiteral, customMessage: file);
            }
    }

    [Fact]
    public void Catalog_LiteralPasswordHash_IsRedactedLikeInPlans()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        const string hash = "$6$saltsalt$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP";
        dir.Write("site.yaml", "resources:\n  - user: deploy\n    password: '" + hash + "'\n");
        var catalog = ConvergeProcess.Run("catalog", dir.Path, "--state-dir", state.Path);
        catalog.ExitCode.ShouldBe(0, catalog.ToString());
        catalog.Stdout.ShouldNotContain("saltsalt");
        catalog.Stdout.ShouldContain("\"password\": \"(redacted)\"");
    }

    [Fact]
    public void Noop_UserWithPassword_ShowsTheCommandsWithOnlyTheHashRedacted()
    {
        // A user that does not exist here, so the plan is useradd then usermod --password; --noop reads only.
        using var dir = new TempDir();
        using var state = new TempDir();
        const string hash = "$6$pepper77$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP";
        dir.Write("site.yaml", "resources:\n  - user: cvg-nosuchuser\n    uid: 48211\n    shell: /bin/sh\n    password: '" + hash + "'\n");

        var text = ConvergeProcess.Run("apply", dir.Path, "--noop", "--state-dir", state.Path, "-v");
        text.ExitCode.ShouldBe(2, text.ToString());
        text.Stdout.ShouldContain("    ensure: absent → present\n      $ useradd --uid 48211 --shell /bin/sh cvg-nosuchuser\n");
        text.Stdout.ShouldContain("    password: (redacted)\n      $ usermod --password '(redacted)' cvg-nosuchuser\n");

        var json = ConvergeProcess.Run("apply", dir.Path, "--noop", "--json", "--state-dir", state.Path, "-v");
        json.ExitCode.ShouldBe(2, json.ToString());
        var changes = ConvergenceKit.Changes(json)["user[cvg-nosuchuser]"];
        changes.ShouldContain("\"argv\":[\"useradd\",\"--uid\",\"48211\",\"--shell\",\"/bin/sh\",\"cvg-nosuchuser\"]");
        changes.ShouldContain("\"argv\":[\"usermod\",\"--password\",\"(redacted)\",\"cvg-nosuchuser\"]");

        var files = Directory.EnumerateFiles(state.Path, "*", SearchOption.AllDirectories).ToList();
        files.ShouldNotBeEmpty("the runs wrote reports");
        foreach (var output in files.Select(File.ReadAllText).Concat([text.Stdout, text.Stderr, json.Stdout, json.Stderr]))
        {
            output.ShouldNotContain(hash);
            output.ShouldNotContain("pepper77", customMessage: "not even the salt");
        }
    }
}
