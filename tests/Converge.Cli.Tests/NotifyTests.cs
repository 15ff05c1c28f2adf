using System.Diagnostics;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// <c>converge apply</c> with a converge.yaml (<c>--config</c>, <c>CONVERGE_CONFIG</c>) notifying real HTTP
/// listeners on loopback: the generic body field by field (who and the revision from a real git repo),
/// the Slack body, a listener that never answers (the run still ends within its bound, exit code
/// unchanged), one that fails twice (retried), and bad or missing config files.
/// </summary>
public class NotifyTests
{
    private static void Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Author and committer differ, as after a rebase or an applied patch: both must reach the report.
        psi.Environment["GIT_AUTHOR_NAME"] = "Alice";
        psi.Environment["GIT_AUTHOR_EMAIL"] = "alice@example.com";
        psi.Environment["GIT_COMMITTER_NAME"] = "Bob";
        psi.Environment["GIT_COMMITTER_EMAIL"] = "bob@example.com";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.ShouldBe(0, err);
    }

    private static string Head(string dir)
    {
        var psi = new ProcessStartInfo("git", ["-C", dir, "rev-parse", "HEAD"]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var head = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return head;
    }

    private static string Site(string target, string content) => $"""
        resources:
          - file: {target}/a.txt
            content: "{content}\n"
          - exec: fails
            command: "echo broken >&2; exit 3"
        """;

    private static string Config(string body) => "notify:\n" + body;

    [Fact]
    public void Apply_JsonWebhook_BodyCarriesHostRunWhoRevisionCountsChangesAndFailures()
    {
        using var repo = new TempDir();
        using var target = new TempDir();
        using var state = new TempDir();
        using var etc = new TempDir();
        using var server = new WebhookListener();
        var config = etc.Write("converge.yaml", Config($"""
              webhooks:
                - url: {server.Url("/hooks/T0/secret-path")}
                  link: "https://git.example.com/ops/compare/{"{{old}}...{{new}}"}"
            """));
        repo.Write("site.yaml", Site(target.Path, "one"));
        Git(repo.Path, "init", "-q", "-b", "main");
        Git(repo.Path, "add", "-A");
        Git(repo.Path, "commit", "-q", "-m", "first");
        var first = Head(repo.Path);
        var run1 = ConvergeProcess.Run("apply", repo.Path, "--state-dir", state.Path, "--config", config, "--json");
        run1.ExitCode.ShouldBe(6, run1.ToString());
        server.Received.Count.ShouldBe(1, "the run waits for its deliveries (within the deadline) before it ends");

        repo.Write("site.yaml", Site(target.Path, "two"));
        Git(repo.Path, "commit", "-q", "-am", "second: a.txt says two");
        var second = Head(repo.Path);
        var run2 = ConvergeProcess.Run("apply", repo.Path, "--state-dir", state.Path, "--config", config, "--json", "--operator", "carol@laptop");
        run2.ExitCode.ShouldBe(6, run2.ToString());
        var report = JsonNode.Parse(run2.Stdout)!;
        var request = server.Received[1];
        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/hooks/T0/secret-path");
        var body = JsonNode.Parse(request.Body)!;

        ((int)body["formatVersion"]!).ShouldBe(1);
        ((string?)body["event"]).ShouldBe("run");
        ((string?)body["host"]).ShouldBe((string?)report["host"]);
        ((string?)body["node"]).ShouldBe((string?)report["node"]);
        ((string?)body["runId"]).ShouldBe((string?)report["runId"]);
        ((bool)body["noop"]!).ShouldBeFalse();
        ((string?)body["status"]).ShouldBe("failed");
        ((int)body["exitCode"]!).ShouldBe(6);
        ((double)body["durationMs"]!).ShouldBe((double)report["durationMs"]!);
        ((string?)body["finishedAt"]).ShouldBe((string?)report["finishedAt"]);

        var who = body["who"]!;
        ((string?)who["user"]).ShouldBe(Environment.UserName);
        ((string?)who["author"]).ShouldBe("Alice <alice@example.com>");
        ((string?)who["committer"]).ShouldBe("Bob <bob@example.com>");
        ((string?)who["operator"]).ShouldBe("carol@laptop");
        report["who"]!.ToJsonString().ShouldBe(who.ToJsonString(), "the report's who block is the body's");

        var revision = body["revision"]!;
        ((string?)revision["old"]).ShouldBe(first);
        ((string?)revision["new"]).ShouldBe(second);
        ((string?)revision["subject"]).ShouldBe("second: a.txt says two");
        ((bool)revision["dirty"]!).ShouldBeFalse();
        ((string?)revision["link"]).ShouldBe($"https://git.example.com/ops/compare/{first}...{second}");

        var summary = body["summary"]!;
        ((int)summary["total"]!).ShouldBe(2);
        ((int)summary["changed"]!).ShouldBe(1);
        ((int)summary["failed"]!).ShouldBe(1);
        ((int)summary["unchanged"]!).ShouldBe(0);
        var change = body["changes"]!.AsArray().Single()!;
        ((string?)change["id"]).ShouldBe($"file[{target.Path}/a.txt]");
        ((string?)change["status"]).ShouldBe("changed");
        change["properties"]!.AsArray().Select(p => (string?)p).ShouldBe(["content"]);
        var failure = body["failures"]!.AsArray().Single()!;
        ((string?)failure["id"]).ShouldBe("exec[fails]");
        ((string?)failure["message"]).ShouldNotBeNull().ShouldContain("exited 3");
        body["errors"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public void Apply_SlackWebhook_SendsOnlyText_AndNoopRunsOnlyWhenAsked()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        using var slack = new WebhookListener();
        using var previews = new WebhookListener();
        dir.Write("site.yaml", $"resources:\n  - file: {dir.Path}/motd\n    content: \"hello\\n\"\n");
        var config = dir.Write("converge.yaml", Config($"""
              webhooks:
                - url: {slack.Url()}
                  format: slack
                - url: {previews.Url()}
                  noop: true
                  on: [changes]
            """));

        var noop = ConvergeProcess.Run("apply", dir["site.yaml"], "--noop", "--state-dir", state.Path, "--config", config);
        noop.ExitCode.ShouldBe(2, noop.ToString());
        slack.Received.ShouldBeEmpty("previews are not sent unless noop: true");
        ((int)JsonNode.Parse(previews.Received.Single().Body)!["summary"]!["wouldChange"]!).ShouldBe(1);

        var apply = ConvergeProcess.Run("apply", dir["site.yaml"], "--state-dir", state.Path, "--config", config);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        var body = JsonNode.Parse(slack.Received.Single().Body)!.AsObject();
        body.Select(p => p.Key).ShouldBe(["text"]);
        var text = (string)body["text"]!;
        text.ShouldStartWith($":white_check_mark: converge run on *{Environment.MachineName}*: 1 changed, 0 failed, 0 skipped of 1");
        text.ShouldContain($"• file[{dir.Path}/motd]: ensure, content");

        var again = ConvergeProcess.Run("apply", dir["site.yaml"], "--state-dir", state.Path, "--config", config);
        again.ExitCode.ShouldBe(0, again.ToString());
        slack.Received.Count.ShouldBe(1, "a run with no change and no failure is not sent (on: changes, failures)");
    }

    [Fact]
    public void Apply_WebhookNeverAnswers_RunEndsWithinTheDeadline_ExitCodeUnchanged()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        using var dead = new WebhookListener(hang: true);
        dir.Write("site.yaml", $"resources:\n  - file: {dir.Path}/motd\n    content: \"hello\\n\"\n");
        var config = dir.Write("converge.yaml", Config($"""
              deadline: 2s
              webhooks:
                - url: {dead.Url()}
                  timeout: 1m
                  retries: 10
            """));
        var watch = Stopwatch.StartNew();
        var run = ConvergeProcess.Run("apply", dir["site.yaml"], "--state-dir", state.Path, "--config", config);
        watch.Stop();
        run.ExitCode.ShouldBe(2, run.ToString());
        dead.Received.Count.ShouldBe(1, "the request was accepted and never answered");
        run.Stderr.ShouldContain($"Could not notify http://127.0.0.1:{dead.Port} after 1 attempt(s): stopped at the notification deadline; the run's result is unchanged");
        // The bound: start-up and the run (well under 5 s here) plus the 2 s deadline. Generous, not a speed test:
        // without the deadline this would take the attempt timeout (1 min).
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20));
        File.ReadAllText(dir["motd"]).ShouldBe("hello\n");
    }

    [Fact]
    public void Apply_WebhookFailsTwice_RetriedUntilDelivered()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        using var flaky = new WebhookListener([500, 500, 200]);
        dir.Write("site.yaml", $"resources:\n  - file: {dir.Path}/motd\n    content: \"hello\\n\"\n");
        var config = dir.Write("converge.yaml", Config($"""
              deadline: 10s
              webhooks:
                - url: {flaky.Url()}
                  retries: 4
            """));
        var run = ConvergeProcess.Run("apply", dir["site.yaml"], "--state-dir", state.Path, "--config", config, "-v");
        run.ExitCode.ShouldBe(2, run.ToString());
        flaky.Received.Count.ShouldBe(3, "two failures, then delivered: no more attempts");
        run.Stderr.ShouldContain($"Notified http://127.0.0.1:{flaky.Port} (3 attempt(s))");
        run.Stderr.ShouldNotContain("Could not notify");
    }

    [Fact]
    public void Apply_ConfigFromEnvironment_BadSetting_ErrorWithPosition_NothingTouched()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", $"resources:\n  - file: {dir.Path}/motd\n    content: \"hello\\n\"\n");
        var config = dir.Write("converge.yaml", "notify:\n  webhooks:\n    - url: https://hooks.example.com/T0/B0/s3cr3t-t0ken\n      retries: lots\n");
        var run = ConvergeProcess.Run(["apply", dir["site.yaml"], "--state-dir", state.Path],
            environment: new Dictionary<string, string?> { ["CONVERGE_CONFIG"] = config });
        run.ExitCode.ShouldBe(64, run.ToString());
        run.Stderr.ShouldContain("converge.yaml:4:16: error CVG5011: notify.webhooks[1].retries must be a whole number from 0 to 10; got 'lots'");
        run.Stderr.ShouldContain("1 error; nothing was changed.");
        run.Stderr.ShouldNotContain("s3cr3t-t0ken");
        File.Exists(dir["motd"]).ShouldBeFalse();
    }

    [Fact]
    public void Apply_ExplicitConfigMissing_IsAnError()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", "resources: []\n");
        var run = ConvergeProcess.Run("apply", dir["site.yaml"], "--state-dir", state.Path, "--config", dir["nope.yaml"]);
        run.ExitCode.ShouldBe(64, run.ToString());
        run.Stderr.ShouldContain($"error CVG5012: cannot read the converge config {dir["nope.yaml"]}");
    }
}
