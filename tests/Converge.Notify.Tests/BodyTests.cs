using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Notify.Tests;

/// <summary>The webhook bodies and Graphite lines built from a run, pinned as golden files.</summary>
public class BodyTests
{
    private const string Link = "https://git.example.com/ops/compare/{{old}}...{{new}}";

    [Fact]
    public void Json_SampleRun_MatchesGolden()
    {
        var body = WebhookBody.Json(Sample.Notice(), Link);
        Golden.Verify("body.json", JsonNode.Parse(body)!.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n");
        body.ShouldNotContain("workers"); // no diffs or values: only ids, properties and messages
    }

    [Fact]
    public void Slack_SampleRun_MatchesGolden()
    {
        var body = JsonNode.Parse(WebhookBody.Slack(Sample.Notice(), Link))!.AsObject();
        body.Count.ShouldBe(1);
        Golden.Verify("slack.txt", (string)body["text"]! + "\n");
    }

    [Fact]
    public void Slack_Preview_SaysWhatWouldChange()
    {
        var text = (string)JsonNode.Parse(WebhookBody.Slack(Sample.Notice(noop: true), null))!["text"]!;
        text.ShouldContain("converge preview on *web-01*: 2 to change, 0 failed, 1 skipped of 5");
    }

    [Fact]
    public void Link_NoPreviousRevision_ComparesTheCommitWithItself()
    {
        WebhookBody.Link(Link, Sample.Notice(previous: null))
            .ShouldBe("https://git.example.com/ops/compare/3f2a1c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b...3f2a1c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b");
        WebhookBody.Link(null, Sample.Notice()).ShouldBeNull();
    }

    [Fact]
    public void GraphiteLines_SampleRun_OneLinePerMetricAtTheRunsEnd()
    {
        var lines = GraphiteSender.Lines(new GraphiteConfig { Host = "x", Prefix = "ops.converge" }, Sample.Notice());
        var end = new DateTimeOffset(2026, 11, 27, 3, 0, 0, TimeSpan.Zero).AddMilliseconds(250).ToUnixTimeSeconds();
        lines.ShouldBe($"""
            ops.converge.web-01.run.changed 2 {end}
            ops.converge.web-01.run.failed 1 {end}
            ops.converge.web-01.run.skipped 1 {end}
            ops.converge.web-01.run.duration_ms 213.4 {end}
            ops.converge.web-01.run.resources 5 {end}

            """.Replace("\r", ""));
        GraphiteSender.Lines(new GraphiteConfig { Host = "x" }, Sample.Notice(noop: true)).ShouldStartWith($"converge.web-01.noop.changed 2 {end}\n");
    }

    [Theory]
    [InlineData("web-01", "web-01")]
    [InlineData("web-01.example.com", "web-01_example_com")]
    [InlineData("db 2/x", "db_2_x")]
    public void GraphitePath_HostDotsAndOddCharacters_BecomeUnderscores(string host, string component)
        => GraphitePath.Component(host).ShouldBe(component);

    [Fact]
    public void Wants_OnAndNoop_PickWhichRunsAreSent()
    {
        var changedAndFailed = Sample.Notice();
        var quiet = changedAndFailed with { Changed = 0, Failed = 0, ExitCode = 0, Changes = [], Failures = [] };
        var hook = new WebhookConfig { Url = new Uri("http://127.0.0.1/") };
        NotifyDispatcher.Wants(hook, changedAndFailed).ShouldBeTrue();
        NotifyDispatcher.Wants(hook, quiet).ShouldBeFalse("nothing changed, nothing failed");
        NotifyDispatcher.Wants(hook with { On = NotifyOn.Failures }, changedAndFailed with { Failed = 0, ExitCode = 2 }).ShouldBeFalse();
        NotifyDispatcher.Wants(hook with { On = NotifyOn.Changes }, changedAndFailed with { Changed = 0 }).ShouldBeFalse();
        NotifyDispatcher.Wants(hook, Sample.Notice(noop: true)).ShouldBeFalse("previews only with noop: true");
        NotifyDispatcher.Wants(hook with { Noop = true }, Sample.Notice(noop: true)).ShouldBeTrue();
        var graphite = new GraphiteConfig { Host = "x" };
        NotifyDispatcher.Wants(graphite, quiet).ShouldBeTrue("every finished run is a data point");
        NotifyDispatcher.Wants(graphite, Sample.Notice(noop: true)).ShouldBeFalse();
    }
}
