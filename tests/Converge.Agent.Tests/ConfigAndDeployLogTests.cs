using Converge.Agent;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Reporting;
using Converge.Testing;

namespace Converge.Agent.Tests;

public class ConfigAndDeployLogTests
{
    [Fact]
    public void Load_AllKeys_ReadsEverySetting()
    {
        using var dir = new TempDir();
        var path = dir.Write("agent.yaml", """
            source: https://git.example.com/ops/manifests.git
            branch: prod
            revision: v1.2
            path: sites/web
            interval: 30m
            splay: 5m
            noop: true
            run_timeout: 1h
            lock_timeout: 2m
            shutdown_timeout: 45s
            fetch_timeout: 3m
            verify_signatures: true
            keyring: /etc/converge/gnupg
            metrics_dir: /var/lib/node_exporter/textfile
            keep_reports: 50
            keep_days: 7
            state_dir: /var/lib/converge
            node: web-01
            facts_dir: /etc/converge/facts.d
            """);
        var bag = new DiagnosticBag();
        var c = AgentConfigFile.Load(path, bag)!;
        bag.Count.ShouldBe(0);
        c.Source.ShouldBe("https://git.example.com/ops/manifests.git");
        c.Branch.ShouldBe("prod");
        c.Revision.ShouldBe("v1.2");
        c.Path.ShouldBe("sites/web");
        c.Interval.ShouldBe(TimeSpan.FromMinutes(30));
        c.Splay.ShouldBe(TimeSpan.FromMinutes(5));
        c.Noop.ShouldBe(true);
        c.RunTimeout.ShouldBe(TimeSpan.FromHours(1));
        c.LockTimeout.ShouldBe(TimeSpan.FromMinutes(2));
        c.ShutdownTimeout.ShouldBe(TimeSpan.FromSeconds(45));
        c.FetchTimeout.ShouldBe(TimeSpan.FromMinutes(3));
        c.VerifySignatures.ShouldBe(true);
        c.Keyring.ShouldBe("/etc/converge/gnupg");
        c.MetricsDir.ShouldBe("/var/lib/node_exporter/textfile");
        c.KeepReports.ShouldBe(50);
        c.KeepAge.ShouldBe(TimeSpan.FromDays(7));
        c.StateDir.ShouldBe("/var/lib/converge");
        c.Node.ShouldBe("web-01");
        c.FactsDir.ShouldBe("/etc/converge/facts.d");
    }

    [Fact]
    public void Load_Mistakes_ReportsEachWithPositionAndCode()
    {
        using var dir = new TempDir();
        var path = dir.Write("agent.yaml", "source: /srv/manifests\nintervall: 30m\nsplay: soon\nnoop: maybe\nkeep_reports: 0\n");
        var bag = new DiagnosticBag();
        AgentConfigFile.Load(path, bag).ShouldBeNull();
        bag.Sorted().Select(d => d.ToString()).ShouldBe(
        [
            $"{path}:2:1: error CVG5001: unknown agent setting 'intervall'; did you mean 'interval'?",
            $"{path}:3:8: error CVG5002: splay must be a duration such as 30s, 5m, 1h or 2d; got 'soon'",
            $"{path}:4:7: error CVG5002: noop must be true or false; got 'maybe'",
            $"{path}:5:15: error CVG5002: keep_reports must be a whole number of at least 1; got '0'",
        ]);
    }

    [Fact]
    public void Load_NotifyBlock_ParsedWithTheSharedReader_ErrorsWithPositionsAndNoExcerpt()
    {
        using var dir = new TempDir();
        var good = dir.Write("good.yaml", "source: /srv/manifests\nnotify:\n  deadline: 3s\n  webhooks:\n    - url: https://hooks.example.com/T0/tok3n\n      format: slack\n  graphite:\n    host: 127.0.0.1\n");
        var bag = new DiagnosticBag();
        var notify = AgentConfigFile.Load(good, bag)!.Notify.ShouldNotBeNull();
        bag.Count.ShouldBe(0);
        notify.Deadline.ShouldBe(TimeSpan.FromSeconds(3));
        notify.Webhooks.Single().Format.ShouldBe(Converge.Notify.WebhookFormat.Slack);
        notify.Graphite!.Host.ShouldBe("127.0.0.1");

        var bad = dir.Write("bad.yaml", "source: /srv/manifests\nnotify:\n  webhooks:\n    - url: \"ftp://hooks.example.com/tok3n\"\n      on: [sometimes]\n");
        var errors = new DiagnosticBag();
        AgentConfigFile.Load(bad, errors).ShouldBeNull();
        errors.Sorted().Select(d => d.ToString()).ShouldBe(
        [
            $"{bad}:4:12: error CVG5011: notify.webhooks[1].url must be an absolute http:// or https:// URL (the value is not shown: it may hold a token)",
            $"{bad}:5:12: error CVG5011: notify.webhooks[1].on: each entry must be changes or failures; got 'sometimes'",
        ]);
        errors.Sorted().ShouldAllBe(d => d.HideExcerpt);
    }

    [Fact]
    public void Load_RetentionBlock_ParsedWithTheSharedReader()
    {
        using var dir = new TempDir();
        var good = dir.Write("good.yaml", "source: /srv/manifests\nretention:\n  reports:\n    keep: 3\n    max_age: 12h\n  bucket:\n    versions_per_path: 4\n    max_age: 2w\n    max_size: 512MiB\n");
        var bag = new DiagnosticBag();
        var r = AgentConfigFile.Load(good, bag)!.Retention.ShouldNotBeNull();
        bag.Count.ShouldBe(0);
        r.ShouldBe(new Converge.Notify.RetentionConfig
        {
            ReportsKeep = 3, ReportsMaxAge = TimeSpan.FromHours(12),
            BucketVersionsPerPath = 4, BucketMaxAge = TimeSpan.FromDays(14), BucketMaxSize = 512L << 20,
        });

        var bad = dir.Write("bad.yaml", "source: /srv/manifests\nretention:\n  reports:\n    kep: 3\n  bucket:\n    max_size: lots\n");
        var errors = new DiagnosticBag();
        AgentConfigFile.Load(bad, errors).ShouldBeNull();
        errors.Sorted().Select(d => d.ToString()).ShouldBe(
        [
            $"{bad}:4:5: error CVG5010: unknown retention.reports setting 'kep'; did you mean 'keep'?",
            $"{bad}:6:15: error CVG5011: retention.bucket.max_size must be a size above 0 in B, KiB, MiB, GiB or TiB, such as 512MiB or 1GiB; got 'lots'",
        ]);
    }

    [Fact]
    public void Load_OlderSpellingAlone_StillWorks_AndBothSpellingsAtOnceAreAnError()
    {
        using var dir = new TempDir();
        // keep_reports with a retention block that only bounds the bucket: no conflict.
        var older = dir.Write("older.yaml", "source: /srv/manifests\nkeep_reports: 5\nretention:\n  bucket:\n    versions_per_path: 2\n");
        var bag = new DiagnosticBag();
        var c = AgentConfigFile.Load(older, bag)!;
        bag.Count.ShouldBe(0);
        c.KeepReports.ShouldBe(5);
        c.Retention!.BucketVersionsPerPath.ShouldBe(2);

        var both = dir.Write("both.yaml", "source: /srv/manifests\nkeep_reports: 5\nkeep_days: 7\nretention:\n  reports:\n    keep: 3\n");
        var errors = new DiagnosticBag();
        AgentConfigFile.Load(both, errors).ShouldBeNull();
        errors.Sorted().Select(d => d.ToString()).ShouldBe(
        [
            $"{both}:2:1: error CVG5002: keep_reports is the older spelling of retention.reports.keep, which is also given; keep only retention.reports.keep",
        ]);
    }

    [Fact]
    public void Load_MissingFile_SaysSo()
    {
        var bag = new DiagnosticBag();
        AgentConfigFile.Load("/nonexistent/agent.yaml", bag).ShouldBeNull();
        bag.Sorted().Single().Code.ShouldBe("CVG5003");
    }

    private static RunResult Result(int changed, int failed, double seconds, bool noop = false)
    {
        var outcomes = new List<ResourceOutcome>();
        for (var i = 0; i < changed; i++) outcomes.Add(Outcome(i, noop ? OutcomeStatus.WouldChange : OutcomeStatus.Changed));
        for (var i = 0; i < failed; i++) outcomes.Add(Outcome(100 + i, OutcomeStatus.Failed));
        return new RunResult(outcomes, noop, Interrupted: false, TimeSpan.FromSeconds(seconds));
    }

    private static ResourceOutcome Outcome(int i, OutcomeStatus status)
        => new(new Compiler.Catalog.ResourceId("file", $"/f{i}"), status, [], TimeSpan.Zero, SourceSpan.None);

    private static readonly Revision Rev = new("3f2a1c9e0b7d4a1f8c6e5d3b2a190817161514aa", "alice <alice@example.com>", "raise worker count", null, false);

    [Fact]
    public void Line_NewCommit_ReadsLikeADeployLog()
        => DeployLog.Line("web-01", Rev, "9e8d7b0aaaabbbbccccddddeeeeffff000011112", Result(3, 0, 1.23), null, false)
            .ShouldBe("converged web-01 to 3f2a1c9 (was 9e8d7b0, author alice, 'raise worker count'): 3 changed, 0 failed in 1.2 s");

    [Fact]
    public void Line_SameCommitAndFirstRunAndNoop_SayWhat()
    {
        DeployLog.Line("web-01", Rev, Rev.Commit, Result(0, 0, 0.1), null, false)
            .ShouldBe("converged web-01 to 3f2a1c9 (no new commit, author alice, 'raise worker count'): 0 changed, 0 failed in 0.1 s");
        DeployLog.Line("web-01", Rev, null, Result(1, 1, 0.5), null, false)
            .ShouldBe("converged web-01 to 3f2a1c9 (first run, author alice, 'raise worker count'): 1 changed, 1 failed in 0.5 s");
        DeployLog.Line("web-01", Rev, null, Result(2, 0, 0.5, noop: true), null, false)
            .ShouldBe("checked web-01 at 3f2a1c9 (noop; first run, author alice, 'raise worker count'): 2 would change, 0 failed in 0.5 s");
    }

    [Fact]
    public void Line_Fallback_NamesTheBrokenRevision()
        => DeployLog.Line("web-01", Rev, Rev.Commit, Result(0, 0, 0.2), "fell back to the last good revision: 1234567 does not load", false)
            .ShouldEndWith("0 changed, 0 failed in 0.2 s; fell back to the last good revision: 1234567 does not load");
}
