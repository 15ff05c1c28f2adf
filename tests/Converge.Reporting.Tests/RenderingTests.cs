using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;
using Converge.Testing;

namespace Converge.Reporting.Tests;

/// <summary>The human view and the JSON report of one run with every kind of outcome, pinned as golden files.</summary>
public class RenderingTests
{
    private static readonly SourceSpan Span = new("site.yaml", 3, 5, 3, 9);

    private static ResourceOutcome Outcome(string type, string title, OutcomeStatus status, IReadOnlyList<Change>? changes = null)
        => new(new ResourceId(type, title), status, changes ?? [], TimeSpan.FromMilliseconds(1.5), Span);

    private static (RunResult Result, RunContext Context, List<ResourceId> Order) SampleRun(bool noop)
    {
        var changed = noop ? OutcomeStatus.WouldChange : OutcomeStatus.Changed;
        var outcomes = new List<ResourceOutcome>
        {
            Outcome("directory", "/srv/app", OutcomeStatus.Unchanged),
            Outcome("file", "/srv/app/app.ini", changed,
            [
                new Change("content", "{sha256}aaaa", "{sha256}bbbb", UnifiedDiff: "--- /srv/app/app.ini\n+++ /srv/app/app.ini\n@@ -1,2 +1,2 @@\n [server]\n-workers = 2\n+workers = 4\n") { Backup = "aaaa" },
                new Change("mode", "0644", "0640"),
            ]),
            Outcome("file", "/srv/app/secret.conf", changed, [new Change("content", "(redacted)", "(redacted)")]),
            Outcome("exec", "reload-app", changed) with
            {
                RefreshedBy = ["file[/srv/app/app.ini]"],
                Refreshed = true,
                RefreshChanges = [new Change("command", null, "/bin/sh -c 'kill -HUP $(cat /run/app.pid)'", ["/bin/sh", "-c", "kill -HUP $(cat /run/app.pid)"])],
            },
            Outcome("exec", "migrate", noop ? OutcomeStatus.Unknown : OutcomeStatus.Failed) with
            {
                Message = noop ? "depends on pending change to file[/srv/app/app.ini]" : "command /usr/bin/app-migrate exited 3: database is locked",
            },
            Outcome("link", "/srv/app/current", OutcomeStatus.Skipped) with { Message = "dependency exec[migrate] failed" },
        };
        var result = new RunResult(outcomes, noop, false, TimeSpan.FromMilliseconds(213));
        var started = new DateTimeOffset(2026, 11, 27, 3, 0, 0, TimeSpan.Zero);
        var context = new RunContext("20261127T030000Z-abcdef", "web-01", "root", "alice", "/srv/manifests",
            new Revision("3f2a1c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "Alice <alice@example.com>", "raise worker count", started, false)
            {
                Committer = "Bob <bob@example.com>",
            }, started)
        {
            Operator = "carol@laptop",
        };
        return (result, context, outcomes.Select(o => o.Id).ToList());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Console_EveryOutcomeKind_MatchesGolden(bool noop)
    {
        var (result, context, order) = SampleRun(noop);
        var text = new StringWriter();
        var renderer = new ConsoleRenderer(text, order, color: false);
        renderer.Header("web-01", context, noop);
        foreach (var o in result.Outcomes.Reverse()) renderer.ResourceFinished(o); // completion order must not matter
        renderer.Summary(result);
        Golden.Verify($"console-{(noop ? "noop" : "apply")}.txt", text.ToString());
    }

    [Fact]
    public void Console_Color_PaintsDiffLines()
    {
        var (result, _, order) = SampleRun(false);
        var text = new StringWriter();
        var renderer = new ConsoleRenderer(text, order, color: true);
        foreach (var o in result.Outcomes) renderer.ResourceFinished(o);
        text.ToString().ShouldContain("\e[32m+workers = 4\e[0m");
        text.ToString().ShouldContain("\e[31m-workers = 2\e[0m");
    }

    [Fact]
    public void Report_Json_MatchesGolden()
    {
        var (result, context, _) = SampleRun(false);
        var json = RunReport.ToJson(context, "web-01", result, context.StartedAt.AddMilliseconds(213));
        Golden.Verify("report.json", json);
        result.ExitCode.ShouldBe(ExitCodes.ChangesAndFailures);
    }

    [Fact]
    public void ReportStore_Save_WritesReportAndLastRunAndPrunes()
    {
        using var dir = new TempDir();
        var (result, context, _) = SampleRun(false);
        var store = new ReportStore(dir.Path) { Keep = 2 };
        for (var i = 0; i < 3; i++)
            store.Save(context with { RunId = $"2026112{i}T000000Z-00000{i}" }, "{}", result, context.StartedAt);
        Directory.GetFiles(store.ReportsDirectory).Select(Path.GetFileName).Order()
            .ShouldBe(["20261121T000000Z-000001.json", "20261122T000000Z-000002.json"]);
        File.ReadAllText(dir["last_run.json"]).ShouldContain("\"exitCode\": 6");
    }

    [Fact]
    public void ReportStore_MaxAge_PrunesOlderReportsButKeepsTheNewest()
    {
        using var dir = new TempDir();
        var (result, context, _) = SampleRun(false);
        var store = new ReportStore(dir.Path) { Keep = 100, MaxAge = TimeSpan.FromDays(7) };
        var now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        // Runs 20, 10, 8 and 6 days ago, then one now: the first three are older than a week.
        foreach (var daysAgo in new[] { 20, 10, 8, 6 })
        {
            var at = now.AddDays(-daysAgo);
            store.Save(context with { RunId = RunContext.NewRunId(at), StartedAt = at }, "{}", result, at);
        }
        // Age is measured from each saved run's start: by the run 10 days ago, the one 20 days ago was out.
        Directory.GetFiles(store.ReportsDirectory).Length.ShouldBe(3);
        store.Save(context with { RunId = RunContext.NewRunId(now), StartedAt = now }, "{}", result, now);
        Directory.GetFiles(store.ReportsDirectory).Select(Path.GetFileName).Order().Select(n => n![..9])
            .ShouldBe(["20261121T", "20261127T"]);

        // The newest report is never pruned by age, even when its id says it is old (a clock that jumped).
        using var lone = new TempDir();
        var loneStore = new ReportStore(lone.Path) { MaxAge = TimeSpan.FromDays(7) };
        loneStore.Save(context with { RunId = RunContext.NewRunId(now.AddDays(-40)), StartedAt = now }, "{}", result, now);
        Directory.GetFiles(loneStore.ReportsDirectory).Length.ShouldBe(1);
    }

    [Theory]
    [InlineData("simple", "simple")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("", "''")]
    public void ShellQuote_Quote_IsCopyPasteSafe(string arg, string expected) => ShellQuote.Quote(arg).ShouldBe(expected);
}
