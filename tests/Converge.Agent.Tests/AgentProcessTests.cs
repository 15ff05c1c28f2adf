using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Agent.Tests;

/// <summary>
/// The real <c>converge agent</c> process against a real git remote in a temp dir, with intervals of a
/// second: everything is asserted by observing files, last_run.json, reports, the log and exit codes.
/// </summary>
public class AgentProcessTests
{
    private static AgentProcess Start(GitRemote git, params string[] extra)
        => new(["agent", "--source", git.Remote, "--state-dir", git.State, .. extra]);

    private static ConvergeRun RunOnce(GitRemote git, params string[] extra)
        => ConvergeProcess.Run(["agent", "--once", "--source", git.Remote, "--state-dir", git.State, .. extra]);

    private static string SlowManifest(GitRemote git, int seconds) => $"""
        resources:
          - exec: slow
            command: [sh, -c, "touch {git.Out}/started; sleep {seconds}"]
          - file: {git.Out}/after.txt
            content: "after\n"
            require: exec[slow]
        """;

    private static JsonObject Report(JsonObject lastRun) => (JsonObject)JsonNode.Parse(File.ReadAllText((string)lastRun["report"]!))!;

    [Fact]
    public void Agent_NewCommitAndDrift_ConvergesWithinAnIntervalAndReportsTheTransition()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("app.conf", "workers 2")), "first", author: "alice");
        using var agent = Start(git, "--interval", "1s");
        agent.WaitFor(() => git.Read("app.conf") == "workers 2\n", "first convergence");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == c1, "the first report");

        var c2 = git.Commit(git.Files(("app.conf", "workers 8")), "raise worker count", author: "bob");
        var clock = Stopwatch.StartNew();
        agent.WaitFor(() => git.Read("app.conf") == "workers 8\n", "the new commit converged");
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(6)); // one 1 s interval plus a run, with room for a loaded machine
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == c2, "the second report");

        var last = git.LastRun()!;
        ((string?)last["previousRevision"]).ShouldBe(c1);
        ((bool)last["fallback"]!).ShouldBeFalse();
        var line = $"to {c2[..7]} (was {c1[..7]}, author bob, 'raise worker count'): 1 changed, 0 failed in ";
        ((string)last["summary"]!).ShouldContain(line);
        agent.WaitForLog(line);
        var report = Report(last);
        ((string?)report["manifest"]!["revision"]!["commit"]).ShouldBe(c2);
        ((string?)report["manifest"]!["revision"]!["author"]).ShouldBe("bob <bob@example.com>");
        ((string?)report["agent"]!["previous"]).ShouldBe(c1);
        ((string?)report["resources"]![0]!["status"]).ShouldBe("changed");

        // Drift made by hand is repaired on the next cycle.
        File.WriteAllText(Path.Combine(git.Out, "app.conf"), "tampered\n");
        agent.WaitFor(() => git.Read("app.conf") == "workers 8\n", "the drift repaired");
    }

    [Fact]
    public void Agent_BrokenCommit_KeepsLastGoodAndReportsItUntilAFixArrives()
    {
        using var git = new GitRemote();
        var good = git.Commit(git.Files(("app.conf", "v1")), "good");
        using var agent = Start(git, "--interval", "1s");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == good, "first convergence");

        var bad = git.Commit($"resources:\n  - file: {git.Out}/app.conf\n    contnet: \"v2\\n\"\n", "typo in app.conf", author: "carol");
        // First the failed run of the bad revision is recorded, then the run of the last good one.
        agent.WaitFor(() => git.LastRun() is { } r && (string?)r["badRevision"] == bad && r["fallback"] is JsonValue f && (bool)f,
            "the broken revision reported and the last good one converged");
        var last = git.LastRun()!;
        ((bool)last["fallback"]!).ShouldBeTrue();
        ((string?)last["revision"]).ShouldBe(good);
        ((string)last["fallbackReason"]!).ShouldBe($"fell back to the last good revision: {bad[..7]} does not load");
        agent.WaitForLog($"Revision {bad[..7]} (author carol, 'typo in app.conf') does not load");

        // The failed run names the bad revision and carries the error with its position.
        var failed = Directory.GetFiles(Path.Combine(git.State, "reports"))
            .Select(f => (JsonObject)JsonNode.Parse(File.ReadAllText(f))!)
            .Single(r => (string?)r["manifest"]!["revision"]?["commit"] == bad && (int)r["exitCode"]! == 1);
        var error = (string)failed["errors"]![0]!;
        error.ShouldStartWith("site.yaml:3:5: error CVG4001"); // relative to the repository, as the committer knows it
        error.ShouldContain("'contnet'");

        // The host stays on the last good revision: drift is still repaired to it.
        File.WriteAllText(Path.Combine(git.Out, "app.conf"), "tampered\n");
        agent.WaitFor(() => git.Read("app.conf") == "v1\n", "drift repaired to the last good revision");

        var fix = git.Commit(git.Files(("app.conf", "v3")), "fix the typo", author: "carol");
        agent.WaitFor(() => git.Read("app.conf") == "v3\n", "the fixing commit converged");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == fix, "the fix reported");
        last = git.LastRun()!;
        ((bool)last["fallback"]!).ShouldBeFalse();
        ((string?)last["badRevision"]).ShouldBeNull();
        ((string)last["summary"]!).ShouldContain($"to {fix[..7]} (was {good[..7]}, author carol, 'fix the typo')");
    }

    [Fact]
    public void Agent_Sighup_RunsAtOnceAndKeepsRunning()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("motd", "hello")), "first");
        using var agent = Start(git, "--interval", "10m");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == c1, "first convergence");

        git.Commit(git.Files(("motd", "hello again")), "second");
        agent.Signal(PosixSignal.SIGHUP);
        agent.WaitFor(() => git.Read("motd") == "hello again\n", "the run SIGHUP asked for", seconds: 60); // a bound, not a speed test: the 10-minute interval means only the SIGHUP explains a run
        agent.WaitForLog("Run requested (SIGHUP)");
        agent.HasExited.ShouldBeFalse();
    }

    [Fact]
    public void Agent_SigtermMidRun_FinishesTheResourceSkipsTheRestWritesTheReportAndExits()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(SlowManifest(git, 2), "slow");
        using var agent = Start(git, "--interval", "10m");
        agent.WaitFor(() => File.Exists(Path.Combine(git.Out, "started")), "the slow exec started");

        var clock = Stopwatch.StartNew();
        agent.Signal(PosixSignal.SIGTERM);
        agent.WaitForExit(TimeSpan.FromSeconds(20)).ShouldBe(0);
        clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(1)); // it waited for the running exec

        var last = git.LastRun()!;
        ((string?)last["revision"]).ShouldBe(c1);
        ((int)last["skipped"]!).ShouldBe(1);
        ((string)last["summary"]!).ShouldEndWith("interrupted");
        var report = Report(last);
        ((bool)report["interrupted"]!).ShouldBeTrue();
        ((string?)report["resources"]![0]!["status"]).ShouldBe("changed"); // the exec finished, not killed
        ((string?)report["resources"]![1]!["status"]).ShouldBe("skipped");
        // Nothing half-written: the skipped file does not exist and no temp file was left.
        Directory.GetFileSystemEntries(git.Out).Select(Path.GetFileName).ShouldBe(["started"]);
        agent.Log.ShouldContain("Converge agent stopped");
    }

    [Fact]
    public void Apply_WhileTheAgentRuns_WaitsForTheLockOrNamesTheAgent()
    {
        using var git = new GitRemote();
        git.Commit(SlowManifest(git, 6), "slow"); // long enough for the impatient apply to start and give up on a loaded machine
        var other = Path.Combine(git.Root, "other.yaml");
        File.WriteAllText(other, $"resources:\n  - file: {git.Out}/manual.txt\n    content: \"manual\\n\"\n");
        using var agent = Start(git, "--interval", "10m");
        agent.WaitFor(() => File.Exists(Path.Combine(git.Out, "started")), "the agent's run started");

        var impatient = ConvergeProcess.Run("apply", other, "--state-dir", git.State, "--lock-timeout", "0.5");
        impatient.ExitCode.ShouldBe(4, impatient.ToString());
        impatient.Stderr.ShouldContain($"another converge run (pid {agent.Pid}) holds {git.State}/converge.lock");
        File.Exists(Path.Combine(git.Out, "manual.txt")).ShouldBeFalse();

        var patient = ConvergeProcess.Run("apply", other, "--state-dir", git.State, "--lock-timeout", "60");
        patient.ExitCode.ShouldBe(2, patient.ToString());
        // It ran only after the agent's run had finished (the file the agent writes last was there first).
        File.Exists(Path.Combine(git.Out, "after.txt")).ShouldBeTrue();
        File.GetLastWriteTimeUtc(Path.Combine(git.Out, "manual.txt")).ShouldBeGreaterThanOrEqualTo(File.GetLastWriteTimeUtc(Path.Combine(git.Out, "after.txt")));
    }

    [Fact]
    public void Agent_LockHeldByAnotherRun_WaitsThenRecordsAFailedCycle()
    {
        using var git = new GitRemote();
        git.Commit(git.Files(("l.txt", "locked out")), "first");
        Directory.CreateDirectory(git.State);
        var lockPath = Path.Combine(git.State, "converge.lock");
        // Another run holds the host's run lock (util-linux flock takes the same flock(2) lock).
        using var holder = Process.Start(new ProcessStartInfo("flock", [lockPath, "sleep", "30"]) { UseShellExecute = false })!;
        try
        {
            var clock = Stopwatch.StartNew();
            while (!IsLocked(lockPath) && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
            clock.Restart();
            var run = RunOnce(git, "--lock-timeout", "1s");
            run.ExitCode.ShouldBe(4, run.ToString());
            clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(1)); // it waited before giving up
            run.Stderr.ShouldContain($"holds {lockPath}; waited 1 s");
            git.Read("l.txt").ShouldBe("(missing)");
            ((string)git.LastRun()!["errors"]![0]!).ShouldContain($"holds {lockPath}");
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
    }

    private static bool IsLocked(string path)
    {
        if (!File.Exists(path)) return false;
        using var probe = Process.Start(new ProcessStartInfo("flock", ["--nonblock", path, "true"]) { UseShellExecute = false })!;
        probe.WaitForExit();
        return probe.ExitCode != 0;
    }

    [Fact]
    public void SecondAgent_SameStateDir_RefusesToRun()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("a", "1")), "first");
        using var first = Start(git, "--interval", "10m");
        first.WaitFor(() => (string?)git.LastRun()?["revision"] == c1, "first agent converged");

        var second = RunOnce(git);
        second.ExitCode.ShouldBe(4, second.ToString());
        second.Stderr.ShouldContain($"Another converge agent (pid {first.Pid}) already uses the state directory {git.State}");
        first.HasExited.ShouldBeFalse();
    }

    [Fact]
    public void DisableAndEnable_SkipRunsSayingWhyThenResume()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("db.conf", "primary")), "first");
        using var agent = Start(git, "--interval", "1s");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == c1, "first convergence");

        var disable = ConvergeProcess.Run("agent", "disable", "--reason", "migrating db", "--state-dir", git.State);
        disable.ExitCode.ShouldBe(0, disable.ToString());
        disable.Stdout.ShouldContain("converge agent disabled: migrating db");
        agent.WaitFor(() => agent.Count("skipping this run") > 0, "a skipped run");
        File.WriteAllText(Path.Combine(git.Out, "db.conf"), "hand-edited during the migration\n");
        var skipped = agent.Count("skipping this run");
        agent.WaitFor(() => agent.Count("skipping this run") >= skipped + 2, "two more skipped runs");
        git.Read("db.conf").ShouldBe("hand-edited during the migration\n");
        ((string?)git.LastRun()!["disabled"]!["reason"]).ShouldBe("migrating db");
        agent.WaitForLog(": migrating db; skipping this run");

        var status = ConvergeProcess.Run("agent", "status", "--state-dir", git.State);
        status.ExitCode.ShouldBe(0, status.ToString());
        status.Stdout.ShouldContain($"agent:       running (pid {agent.Pid})");
        status.Stdout.ShouldContain(": migrating db");
        status.Stdout.ShouldContain($"last good:   {c1}");

        var enable = ConvergeProcess.Run("agent", "enable", "--state-dir", git.State);
        enable.ExitCode.ShouldBe(0, enable.ToString());
        agent.WaitFor(() => git.Read("db.conf") == "primary\n", "converging again after enable");
        agent.WaitFor(() => git.LastRun()?["disabled"] is null && (string?)git.LastRun()?["revision"] == c1, "last_run.json no longer disabled");
    }

    [Fact]
    public void Agent_SourceGone_ConvergesTheCachedRevisionAndSaysSo()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("app.conf", "cached")), "first");
        using var agent = Start(git, "--interval", "1s");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == c1, "first convergence");

        Directory.Delete(git.Remote, recursive: true); // the git server is down
        File.WriteAllText(Path.Combine(git.Out, "app.conf"), "drifted\n");
        agent.WaitFor(() => git.Read("app.conf") == "cached\n", "the cached revision converged");
        agent.WaitFor(() => git.LastRun()?["sourceUnavailable"] is JsonValue v && (bool)v, "the fallback recorded");
        var last = git.LastRun()!;
        ((string?)last["revision"]).ShouldBe(c1);
        ((bool)last["fallback"]!).ShouldBeTrue();
        ((string)last["summary"]!).ShouldContain("source unavailable");
        agent.WaitForLog($"Cannot fetch {git.Remote}");
    }

    [Fact]
    public void Once_NoopThenApply_ExitsWithTheRunsCode()
    {
        using var git = new GitRemote();
        git.Commit(git.Files(("a.txt", "A")), "first");
        var noop = RunOnce(git, "--noop");
        noop.ExitCode.ShouldBe(2, noop.ToString());
        git.Read("a.txt").ShouldBe("(missing)");
        ((string)git.LastRun()!["summary"]!).ShouldStartWith("checked ");

        RunOnce(git).ExitCode.ShouldBe(2);
        git.Read("a.txt").ShouldBe("A\n");
        var again = RunOnce(git);
        again.ExitCode.ShouldBe(0, again.ToString());
        ((string)git.LastRun()!["summary"]!).ShouldContain("(no new commit, author alice, 'first'): 0 changed, 0 failed");
    }

    [Fact]
    public void Once_BrokenFirstCommit_ExitsOneAndTouchesNothing()
    {
        using var git = new GitRemote();
        git.Commit("resources:\n  - file: relative/path\n", "broken from the start");
        var run = RunOnce(git);
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stderr.ShouldContain("No good revision to fall back to; nothing was changed");
        ((int)git.LastRun()!["exitCode"]!).ShouldBe(1);
    }

    [Fact]
    public void Once_RunTimeout_InterruptsTheRun()
    {
        using var git = new GitRemote();
        git.Commit(SlowManifest(git, 2), "slow");
        var run = RunOnce(git, "--run-timeout", "1s");
        run.ExitCode.ShouldBe(6, run.ToString()); // the exec changed, the rest was left: changes and failures
        ((string)git.LastRun()!["summary"]!).ShouldContain("the run timed out");
        File.Exists(Path.Combine(git.Out, "after.txt")).ShouldBeFalse();
    }

    [Fact]
    public void Once_HungRun_KillsItsCommandRecordsItAndExits()
    {
        using var git = new GitRemote();
        const string marker = "27.31"; // a sleep no other process runs
        git.Commit($"resources:\n  - exec: hang\n    command: [sleep, \"{marker}\"]\n", "hangs");
        var clock = Stopwatch.StartNew();
        var run = RunOnce(git, "--run-timeout", "1s");
        run.ExitCode.ShouldBe(4, run.ToString());
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20));
        run.Stderr.ShouldContain("did not stop within 6.0 s (run timeout 1.0 s); ending the agent so the service manager restarts it");
        ((string)git.LastRun()!["errors"]![0]!).ShouldContain("did not stop within 6.0 s");
        Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)).Any(d =>
        {
            try { return File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' ').Contains("sleep " + marker); }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }).ShouldBeFalse("the hung command outlived the agent");
    }

    [Fact]
    public void Once_ConfigFileMetricsAndRetention_AllApplied()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("m.txt", "metrics")), "first");
        var metrics = Path.Combine(git.Root, "textfile");
        var config = Path.Combine(git.Root, "agent.yaml");
        File.WriteAllText(config, $"source: {git.Remote}\nstate_dir: {git.State}\nmetrics_dir: {metrics}\nkeep_reports: 2\n");
        for (var i = 0; i < 3; i++)
        {
            var run = ConvergeProcess.Run("agent", "--once", "--config", config);
            run.ExitCode.ShouldBe(i == 0 ? 2 : 0, run.ToString());
        }
        Directory.GetFiles(Path.Combine(git.State, "reports")).Length.ShouldBe(2);
        var prom = File.ReadAllText(Path.Combine(metrics, "converge.prom"));
        prom.ShouldContain("converge_last_run_exit_code 0\n");
        prom.ShouldContain($"converge_revision_info{{commit=\"{c1}\"}} 1\n");
        prom.ShouldContain("converge_last_run_fallback 0\n");
        prom.ShouldContain("converge_last_run_resources{status=\"changed\"} 0\n");
    }

    [Fact]
    public void Once_RetentionBlock_BoundsReportsAndBucketLikeAManualRun()
    {
        using var git = new GitRemote();
        var config = Path.Combine(git.Root, "agent.yaml");
        // Two reports kept, so only the newest two runs' backups are protected; one version per path beyond that.
        File.WriteAllText(config, $"source: {git.Remote}\nstate_dir: {git.State}\n" +
                                  "retention:\n  reports:\n    keep: 2\n    max_age: 30d\n  bucket:\n    versions_per_path: 1\n    max_size: 64MiB\n");
        for (var i = 1; i <= 4; i++)
        {
            git.Commit(git.Files(("r.conf", $"v{i}")), $"release {i}");
            var run = ConvergeProcess.Run("agent", "--once", "--config", config);
            run.ExitCode.ShouldBe(2, run.ToString());
        }
        git.Read("r.conf").ShouldBe("v4\n");
        Directory.GetFiles(Path.Combine(git.State, "reports")).Length.ShouldBe(2);
        // Runs 2, 3 and 4 backed up v1, v2 and v3; run 2 is unprotected and beyond one version: pruned.
        string Blob(int i)
        {
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"v{i}\n")));
            return Path.Combine(git.State, "bucket", sha[..2], sha);
        }
        File.Exists(Blob(1)).ShouldBeFalse();
        File.Exists(Blob(2)).ShouldBeTrue();
        File.Exists(Blob(3)).ShouldBeTrue();
    }

    [Fact]
    public void Once_PathAndPinnedRevision_ConvergeThatDirectoryAtThatTag()
    {
        using var git = new GitRemote();
        var v1 = git.CommitFiles("release 1", ("sites/web/site.yaml", git.Files(("web.conf", "release 1"))), ("site.yaml", git.Files(("root.conf", "root"))));
        git.Tag("v1");
        git.CommitFiles("release 2 in progress", ("sites/web/site.yaml", git.Files(("web.conf", "release 2"))));

        var run = RunOnce(git, "--path", "sites/web", "--revision", "v1");
        run.ExitCode.ShouldBe(2, run.ToString());
        git.Read("web.conf").ShouldBe("release 1\n"); // the tag, not the branch head
        git.Read("root.conf").ShouldBe("(missing)"); // only the manifests under --path
        ((string?)git.LastRun()!["revision"]).ShouldBe(v1);
        ((string?)Report(git.LastRun()!)["agent"]!["pinnedRevision"]).ShouldBe("v1");

        var head = RunOnce(git, "--path", "sites/web");
        head.ExitCode.ShouldBe(2, head.ToString());
        git.Read("web.conf").ShouldBe("release 2\n");
    }

    [Theory]
    [InlineData("/etc")]
    [InlineData("../elsewhere")]
    public void Agent_PathOutsideTheRepository_IsAUsageError(string path)
    {
        using var git = new GitRemote();
        var run = ConvergeProcess.Run("agent", "--once", "--source", git.Remote, "--state-dir", git.State, "--path", path);
        run.ExitCode.ShouldBe(64, run.ToString());
        run.Stderr.ShouldContain($"converge agent: --path must be relative to the repository and stay inside it; got '{path}'");
    }

    [Fact]
    public void Agent_BadConfig_ExitsWithUsageAndThePosition()
    {
        using var git = new GitRemote();
        var config = Path.Combine(git.Root, "agent.yaml");
        File.WriteAllText(config, $"source: {git.Remote}\nintreval: 5m\n");
        var run = ConvergeProcess.Run("agent", "--config", config);
        run.ExitCode.ShouldBe(64, run.ToString());
        run.Stderr.ShouldContain("agent.yaml:2:1: error CVG5001: unknown agent setting 'intreval'; did you mean 'interval'?");
    }
}
