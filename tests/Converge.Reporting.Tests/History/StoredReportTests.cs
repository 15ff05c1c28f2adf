using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;
using Converge.Reporting.History;
using Converge.Testing;

namespace Converge.Reporting.Tests.History;

/// <summary>Reports written by <see cref="RunReport"/> read back by <see cref="StoredReport"/> and <see cref="ReportHistory"/>.</summary>
public class StoredReportTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 7, 0, 0, TimeSpan.Zero);

    private static (RunContext, RunResult) Sample(string runId, bool noop)
    {
        var before = new PathState("file") { Sha256 = new string('a', 64), Size = 12, Mode = "0644", Uid = 0, Gid = 0, Owner = "root", Group = "root" };
        var after = before with { Sha256 = new string('b', 64), Mode = "0600", Sensitive = true };
        var outcomes = new List<ResourceOutcome>
        {
            new(new ResourceId("file", "/etc/app.conf"), noop ? OutcomeStatus.WouldChange : OutcomeStatus.Changed,
                [new Change("mode", "0644", "0600"), new Change("content", "x", "y", UnifiedDiff: "--- a\n+++ b\n") { Backup = new string('a', 64) }],
                TimeSpan.FromMilliseconds(2), new SourceSpan("/srv/m/site.yaml", 4, 7, 4, 9)) { Before = before, After = after },
            new(new ResourceId("link", "/etc/current"), OutcomeStatus.Changed, [new Change("target", null, "v2")], TimeSpan.Zero, SourceSpan.None)
            {
                Before = PathState.Absent,
                After = new PathState("link") { Target = "v2", Uid = 0, Gid = 0 },
            },
        };
        var context = new RunContext(runId, "web-1", "root", "alice", "/srv/m", new Revision("0123456789abcdef", "A", "s", null, true), Start);
        return (context, new RunResult(outcomes, noop, false, TimeSpan.FromMilliseconds(40)));
    }

    [Fact]
    public void Read_ReportWrittenByRunReport_GivesBackOutcomesWithTheirPathStates()
    {
        using var dir = new TempDir();
        var (context, result) = Sample("20261127T070000Z-000abc", noop: false);
        var path = Path.Combine(dir.Path, "r.json");
        using (var f = File.Create(path)) RunReport.Write(f, context, "web-1", result, Start.AddSeconds(1));

        var report = StoredReport.Read(path)!;

        report.RunId.ShouldBe("20261127T070000Z-000abc");
        report.SudoUser.ShouldBe("alice");
        report.Commit.ShouldBe("0123456789abcdef");
        report.Dirty.ShouldBeTrue();
        report.Kind.ShouldBe("apply");
        report.Changed.ShouldBe(2);
        report.Outcomes.Count.ShouldBe(2);
        var file = report.Outcomes[0];
        file.Before.ShouldBe(result.Outcomes[0].Before);
        file.After.ShouldBe(result.Outcomes[0].After);
        file.Source.ToString().ShouldBe("/srv/m/site.yaml:4:7");
        file.Changes[1].Backup.ShouldBe(new string('a', 64));
        file.Changes[1].UnifiedDiff.ShouldBe("--- a\n+++ b\n");
        report.Outcomes[1].Before.ShouldBe(PathState.Absent);
        report.Outcomes[1].After!.Target.ShouldBe("v2");
        report.Outcomes[1].Source.IsNone.ShouldBeTrue();
    }

    [Fact]
    public void ReadHeader_StopsBeforeResources_AndStillHasTheSummary()
    {
        using var dir = new TempDir();
        var (context, result) = Sample("20261127T070000Z-000abc", noop: true);
        var path = Path.Combine(dir.Path, "r.json");
        using (var f = File.Create(path)) RunReport.Write(f, context, "web-1", result, Start.AddSeconds(1));

        var header = StoredReport.ReadHeader(path)!;

        header.Noop.ShouldBeTrue();
        header.Kind.ShouldBe("noop");
        header.WouldChange.ShouldBe(1);
        header.Outcomes.ShouldBeEmpty();
        header.Raw.ContainsKey("resources").ShouldBeFalse();
    }

    [Fact]
    public void Resolve_LastSkipsNoopRunsWhenAsked_PrefixesMustBeUnique()
    {
        using var state = new TempDir();
        var store = new ReportStore(state.Path);
        foreach (var (id, noop) in new[] { ("20261127T070000Z-000abc", false), ("20261127T070000Z-3e8abc", true), ("20261127T070001Z-000abc", true) })
        {
            var (context, result) = Sample(id, noop);
            store.Save(context, s => RunReport.Write(s, context, "web-1", result, Start), result, Start);
        }
        var history = new ReportHistory(state.Path);

        history.Resolve("last", skipNoop: false, out _).ShouldBe("20261127T070001Z-000abc");
        history.Resolve("last", skipNoop: true, out _).ShouldBe("20261127T070000Z-000abc");
        history.Resolve("20261127T070001", skipNoop: false, out _).ShouldBe("20261127T070001Z-000abc");
        history.Resolve("20261127T0700", skipNoop: false, out var ambiguous).ShouldBeNull();
        ambiguous.ShouldStartWith("run id '20261127T0700' is ambiguous: it starts 3 runs");
        history.Resolve("nope", skipNoop: false, out var unknown).ShouldBeNull();
        unknown.ShouldStartWith("no run 'nope' in ");
    }

    [Fact]
    public void NewRunId_TwoRunsInOneSecond_SortInTheOrderTheyStarted()
    {
        var first = RunContext.NewRunId(Start.AddMilliseconds(999));
        var earlier = RunContext.NewRunId(Start.AddMilliseconds(5));
        string.CompareOrdinal(earlier, first).ShouldBeLessThan(0);
        first.ShouldMatch(@"^20261127T070000Z-3e7[0-9a-f]{3}$");
    }
}
