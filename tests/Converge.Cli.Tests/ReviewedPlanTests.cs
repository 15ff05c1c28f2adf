using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// Reviewed plans through the built CLI on real files: <c>--noop --out plan.json</c>, then
/// <c>apply --plan plan.json</c> applies exactly that plan, or refuses, naming the drift and touching
/// nothing, when the host or the manifests changed in between.
/// </summary>
public class ReviewedPlanTests
{
    /// <summary>A manifest repo, a tree it manages and a state dir, with the converge calls of one test.</summary>
    private sealed class Scene : IDisposable
    {
        public readonly TempDir Repo = new();
        public readonly TempDir Tree = new();
        public readonly TempDir State = new();
        public Dictionary<string, string?> Env { get; } = new();

        public string PlanPath => State["plan.json"];

        public ConvergeRun Run(params string[] args)
            => ConvergeProcess.Run([.. args, "--state-dir", State.Path], environment: Env);

        public ConvergeRun Plan(params string[] extra) => Run(["--noop", Repo.Path, "--out", PlanPath, .. extra]);

        public ConvergeRun ApplyPlan(params string[] extra) => Run(["apply", Repo.Path, "--plan", PlanPath, .. extra]);

        public JsonObject PlanJson => JsonNode.Parse(File.ReadAllText(PlanPath))!.AsObject();

        /// <summary>Every saved report. Not "the last file": run ids of one second sort by their random suffix.</summary>
        public List<JsonNode> Reports() => Directory.EnumerateFiles(State["reports"]).Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();

        public void WriteSite(string yaml) => Repo.Write("site.yaml", yaml.Replace("@T@", Tree.Path));

        /// <summary>Every file under the tree: relative path → (mode, bytes as text).</summary>
        public SortedDictionary<string, string> Snapshot()
        {
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var f in Directory.EnumerateFileSystemEntries(Tree.Path, "*", SearchOption.AllDirectories))
            {
                var mode = Convert.ToString((int)File.GetUnixFileMode(f), 8);
                files[Path.GetRelativePath(Tree.Path, f)] = Directory.Exists(f) ? $"dir {mode}" : $"{mode} {File.ReadAllText(f)}";
            }
            return files;
        }

        public void Dispose()
        {
            Repo.Dispose();
            Tree.Dispose();
            State.Dispose();
        }
    }

    private const string Site = """
        resources:
          - file: @T@/new.conf
            content: "created by the plan\n"
            mode: "0640"
          - file: @T@/changed.conf
            content: "wanted\n"
          - file: @T@/same.conf
            content: "in sync\n"
          - exec: mark
            command: "touch @T@/marked"
            creates: @T@/marked
            require: file[@T@/new.conf]
        """;

    private static Scene Prepared()
    {
        var s = new Scene();
        s.WriteSite(Site);
        s.Tree.Write("changed.conf", "by hand\n");
        s.Tree.Write("same.conf", "in sync\n");
        return s;
    }

    [Fact]
    public void PlanThenApplyPlan_AppliesExactlyThePlan_AndTheReportNamesIt()
    {
        using var s = Prepared();
        var before = s.Snapshot();

        var plan = s.Plan();
        plan.ExitCode.ShouldBe(2, plan.ToString());
        plan.Stdout.ShouldContain($"saved to {s.PlanPath}");
        s.Snapshot().ShouldBe(before); // planning touched nothing
        var doc = s.PlanJson;
        ((string)doc["kind"]!).ShouldBe("converge-plan");
        ((int)doc["formatVersion"]!).ShouldBe(1);
        ((string)doc["host"]!).ShouldBe(Environment.MachineName);
        var statuses = doc["resources"]!.AsArray().ToDictionary(r => (string)r!["id"]!, r => (string)r!["status"]!);
        statuses[$"file[{s.Tree["new.conf"]}]"].ShouldBe("would-change");
        statuses[$"file[{s.Tree["changed.conf"]}]"].ShouldBe("would-change");
        statuses[$"file[{s.Tree["same.conf"]}]"].ShouldBe("unchanged");
        statuses["exec[mark]"].ShouldBe("unknown"); // its guard depends on the pending new.conf
        File.GetUnixFileMode(s.State["plan.key"]).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var apply = s.ApplyPlan();
        apply.ExitCode.ShouldBe(2, apply.ToString());
        apply.Stdout.ShouldContain($"Reviewed plan {(string)doc["planId"]!}");
        var after = s.Snapshot();
        after["new.conf"].ShouldBe("640 created by the plan\n");
        after["changed.conf"].ShouldBe("644 wanted\n");
        after["same.conf"].ShouldBe(before["same.conf"]);
        after.ShouldContainKey("marked"); // the unknown exec ran: its guard was checked at apply time
        after.Count.ShouldBe(4);

        var report = s.Reports().Single(r => !(bool)r["noop"]!);
        ((string)report["plan"]!["id"]!).ShouldBe((string)doc["planId"]!);
        ((string)report["plan"]!["digest"]!).ShouldBe("sha256:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(s.PlanPath))).ToLowerInvariant());
        ((int)report["exitCode"]!).ShouldBe(2);
    }

    [Fact]
    public void FileEditedByHand_AfterThePlan_RefusedNamingIt_NothingTouched()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        File.WriteAllText(s.Tree["same.conf"], "edited after the review\n");
        var before = s.Snapshot();

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(1, apply.ToString());
        s.Snapshot().ShouldBe(before);
        // The refusal is in the history: a report with exit 1, the drift as its errors, and the plan it refused.
        var report = s.Reports().Single(r => r["plan"] is not null);
        ((int)report["exitCode"]!).ShouldBe(1);
        ((string)report["plan"]!["id"]!).ShouldBe((string)s.PlanJson["planId"]!);
        ((string)report["errors"]![0]!).ShouldBe($"file[{s.Tree["same.conf"]}]: actual state changed since the plan (content, status.size); was unchanged, now would-change; planned no change, now content");
        Golden.Verify("reviewed-plans/file-edited.txt", Golden.Scrub(apply.Stderr, (s.Tree.Path, "<tree>"), (s.PlanPath, "<plan>")));
    }

    [Fact]
    public void ModeChangedAfterThePlan_Refused_NamesTheMode()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        File.SetUnixFileMode(s.Tree["changed.conf"], UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var before = s.Snapshot();

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain($"file[{s.Tree["changed.conf"]}]: actual state changed since the plan (status.mode)");
        apply.Stderr.ShouldContain("nothing was changed");
        s.Snapshot().ShouldBe(before);
    }

    [Fact]
    public void ResourceAddedToTheManifest_Refused_NamesItAndTheCatalog()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        s.WriteSite(Site + "\n  - file: @T@/extra.conf\n    content: \"x\\n\"\n");
        var before = s.Snapshot();

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain("desired state changed: the compiled catalog differs from the plan's");
        apply.Stderr.ShouldContain($"file[{s.Tree["extra.conf"]}]: added to the manifests since the plan");
        s.Snapshot().ShouldBe(before);
    }

    [Fact]
    public void PropertyChangedInTheManifest_Refused_NamesTheResource()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        s.WriteSite(Site.Replace("wanted", "wanted more"));

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain($"file[{s.Tree["changed.conf"]}]: desired state changed in the manifests");
        File.ReadAllText(s.Tree["changed.conf"]).ShouldBe("by hand\n");
    }

    [Fact]
    public void NewGitCommit_AfterThePlan_Refused_NamesOldAndNewRevision()
    {
        using var s = Prepared();
        Git(s.Repo.Path, "init", "-q", "-b", "main");
        Git(s.Repo.Path, "add", ".");
        Git(s.Repo.Path, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-q", "-m", "first");
        var first = Git(s.Repo.Path, "rev-parse", "HEAD").Trim();
        s.Plan().ExitCode.ShouldBe(2);
        ((string)s.PlanJson["manifest"]!["revision"]!["commit"]!).ShouldBe(first);
        ((bool)s.PlanJson["manifest"]!["revision"]!["dirty"]!).ShouldBeFalse();

        // A commit that changes no resource still changes what was reviewed: the revision.
        s.Repo.Write("README.md", "notes\n");
        Git(s.Repo.Path, "add", ".");
        Git(s.Repo.Path, "-c", "user.name=Bob", "-c", "user.email=bob@example.com", "commit", "-q", "-m", "notes");
        var second = Git(s.Repo.Path, "rev-parse", "HEAD").Trim();
        var before = s.Snapshot();

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain($"manifest revision changed: {first[..7]} → {second[..7]}");
        apply.Stderr.ShouldNotContain("desired state changed");
        s.Snapshot().ShouldBe(before);
    }

    [Fact]
    public void DirtyTree_PlannedAndApplied_WhenUnchanged_RefusedWhenATemplateChanges()
    {
        using var s = Prepared();
        Git(s.Repo.Path, "init", "-q", "-b", "main");
        Git(s.Repo.Path, "add", ".");
        Git(s.Repo.Path, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-q", "-m", "first");
        s.WriteSite(Site.Replace("wanted", "uncommitted"));
        s.Plan().ExitCode.ShouldBe(2);
        ((bool)s.PlanJson["manifest"]!["revision"]!["dirty"]!).ShouldBeTrue();

        // Same commit, still dirty, but another uncommitted edit: the catalog digest tells them apart.
        s.WriteSite(Site.Replace("wanted", "uncommitted, edited again"));
        var refused = s.ApplyPlan();
        refused.ExitCode.ShouldBe(1, refused.ToString());
        refused.Stderr.ShouldContain("desired state changed");

        s.WriteSite(Site.Replace("wanted", "uncommitted"));
        var apply = s.ApplyPlan();
        apply.ExitCode.ShouldBe(2, apply.ToString());
        File.ReadAllText(s.Tree["changed.conf"]).ShouldBe("uncommitted\n");
    }

    [Fact]
    public void SensitiveValues_NeverInThePlanFileOrAnyOutput()
    {
        const string secret = "hunter2"; // low entropy on purpose: a plain sha256 of it would be guessed at once
        using var s = new Scene();
        s.Env["PLAN_TEST_SECRET"] = secret;
        s.WriteSite("""
            secrets:
              token: { env: PLAN_TEST_SECRET }
            resources:
              - file: @T@/token
                content: "{{ secrets.token }}"
                mode: "0600"
              - file: @T@/app.conf
                content: "token = {{ secrets.token }}\n"
            """);
        s.Tree.Write("app.conf", "token = old\n");
        var outputs = new List<ConvergeRun> { s.Plan(), s.Run("plan", "show", s.PlanPath), s.Run("plan", "show", s.PlanPath, "-v") };
        outputs[0].ExitCode.ShouldBe(2, outputs[0].ToString());
        var planTexts = new List<string> { File.ReadAllText(s.PlanPath) };
        outputs.Add(s.ApplyPlan());
        outputs[^1].ExitCode.ShouldBe(2, outputs[^1].ToString());
        File.ReadAllText(s.Tree["token"]).ShouldBe(secret);

        // The secret changes after a new plan: refused, and the refusal does not show it either.
        outputs.Add(s.Plan());
        planTexts.Add(File.ReadAllText(s.PlanPath));
        s.Env["PLAN_TEST_SECRET"] = "hunter3";
        outputs.Add(s.ApplyPlan());
        outputs[^1].ExitCode.ShouldBe(1);
        outputs[^1].Stderr.ShouldContain("desired state changed");

        var plainDigests = new[] { secret, secret + "\n", "token = " + secret + "\n" }
            .Select(t => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(t))).ToLowerInvariant()).ToList();
        planTexts[0].ShouldContain("(redacted)");
        foreach (var planText in planTexts)
        {
            planText.ShouldNotContain(secret);
            foreach (var d in plainDigests) planText.ShouldNotContain(d);
        }
        foreach (var run in outputs)
        {
            run.Stdout.ShouldNotContain(secret);
            run.Stderr.ShouldNotContain(secret);
            foreach (var d in plainDigests) run.Stdout.ShouldNotContain(d);
        }
        foreach (var file in Directory.EnumerateFiles(s.State.Path, "*", SearchOption.AllDirectories))
            if (!file.StartsWith(s.State["bucket"] + "/", StringComparison.Ordinal) && !file.EndsWith("plan.key", StringComparison.Ordinal))
                File.ReadAllText(file).ShouldNotContain(secret, customMessage: file);
    }

    [Fact]
    public void PlanForAnotherHost_Refused()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        var doc = s.PlanJson;
        doc["host"] = "db-07";
        File.WriteAllText(s.PlanPath, doc.ToJsonString());
        var before = s.Snapshot();

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain($"host: the plan is for host db-07; this is {Environment.MachineName}");
        s.Snapshot().ShouldBe(before);
    }

    [Fact]
    public void PlanForAnotherNode_Refused()
    {
        using var s = Prepared();
        s.Plan("--node", "web-01").ExitCode.ShouldBe(2);

        var apply = s.ApplyPlan("--node", "web-02");

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain("node: the plan is for node web-01; this run compiles node web-02");
        File.Exists(s.Tree["new.conf"]).ShouldBeFalse();
    }

    [Fact]
    public void PlanFromAnotherStateDirectory_RefusedByItsKey()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        using var other = new TempDir();

        var apply = ConvergeProcess.Run("apply", s.Repo.Path, "--plan", s.PlanPath, "--state-dir", other.Path);

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain("digest key: the plan was made with key");
        File.Exists(s.Tree["new.conf"]).ShouldBeFalse();
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("""{"kind": "converge-plan", "formatVersion": 99}""", "unsupported plan formatVersion 99; this converge reads version 1")]
    [InlineData("""{"formatVersion": 1, "runId": "x"}""", "not a plan: \"kind\" must be \"converge-plan\"")]
    [InlineData("""{"kind": "converge-plan", "formatVersion": 1, "planId": "x"}""", "damaged plan: missing \"manifest\"")]
    public void CorruptOrUnknownPlanFile_ClearErrorWithTheFileName(string text, string expected)
    {
        using var s = Prepared();
        File.WriteAllText(s.PlanPath, text);

        var apply = s.ApplyPlan();
        var show = s.Run("plan", "show", s.PlanPath);

        apply.ExitCode.ShouldBe(1, apply.ToString());
        apply.Stderr.ShouldContain($"{s.PlanPath}: {expected}");
        apply.Stderr.ShouldContain("nothing was changed");
        show.ExitCode.ShouldBe(1, show.ToString());
        show.Stderr.ShouldContain($"{s.PlanPath}: {expected}");
        File.Exists(s.Tree["new.conf"]).ShouldBeFalse();
    }

    [Fact]
    public void PlanTwice_OnAnUnchangedHost_GivesIdenticalDigests()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        var first = s.PlanJson;
        s.Plan().ExitCode.ShouldBe(2);
        var second = s.PlanJson;

        ((string)second["planId"]!).ShouldNotBe((string)first["planId"]!);
        ((string)second["manifest"]!["catalogDigest"]!).ShouldBe((string)first["manifest"]!["catalogDigest"]!);
        second["resources"]!.ToJsonString().ShouldBe(first["resources"]!.ToJsonString());
        first["resources"]!.AsArray().Where(r => (string)r!["status"]! != "unknown")
            .ShouldAllBe(r => ((string)r!["digests"]!["actual"]!).StartsWith("hmac-sha256:"));
    }

    [Fact]
    public void NoopWithPlan_ChecksWithoutApplying()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);

        var check = s.Run("apply", s.Repo.Path, "--plan", s.PlanPath, "--noop");

        check.ExitCode.ShouldBe(2, check.ToString());
        check.Stdout.ShouldContain("still holds");
        File.Exists(s.Tree["new.conf"]).ShouldBeFalse();
    }

    [Fact]
    public void DownstreamOfAnUnknown_CheckedAtApplyTime_NotAppliedWhenItsChangesDiffer()
    {
        using var s = new Scene();
        // The exec is unknown in the plan (its guard waits on dir/); when it runs it writes gen.conf, so the
        // file resource after it no longer makes the change that was reviewed (create) but another (replace).
        s.WriteSite("""
            resources:
              - directory: @T@/dir
              - exec: generate
                command: "printf generated > @T@/gen.conf"
                creates: @T@/dir/done
                require: directory[@T@/dir]
              - file: @T@/gen.conf
                content: "managed\n"
                require: exec[generate]
              - file: @T@/after.conf
                content: "after\n"
                require: file[@T@/gen.conf]
            """);
        s.Plan().ExitCode.ShouldBe(2);

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(6, apply.ToString());
        apply.Stdout.ShouldContain($"! file[{s.Tree["gen.conf"]}]");
        apply.Stdout.ShouldContain("not applied: its changes differ from the reviewed plan");
        File.ReadAllText(s.Tree["gen.conf"]).ShouldBe("generated");   // left as the exec made it
        File.Exists(s.Tree["after.conf"]).ShouldBeFalse();             // its dependent was skipped
        Directory.Exists(s.Tree["dir"]).ShouldBeTrue();                 // the reviewed changes before it ran
    }

    [Fact]
    public void Refresh_InThePlan_IsDeliveredByTheApply()
    {
        using var s = new Scene();
        s.WriteSite("""
            resources:
              - file: @T@/app.conf
                content: "v2\n"
                notify: exec[reload]
              - exec: reload
                command: "echo reloaded >> @T@/reloads"
                refreshonly: true
            """);
        s.Tree.Write("app.conf", "v1\n");
        s.Plan().ExitCode.ShouldBe(2);
        var reload = s.PlanJson["resources"]!.AsArray().Single(r => (string)r!["id"]! == "exec[reload]")!;
        ((bool)reload["refreshed"]!).ShouldBeTrue();
        ((string)reload["refreshedBy"]![0]!).ShouldBe($"file[{s.Tree["app.conf"]}]");

        var apply = s.ApplyPlan();

        apply.ExitCode.ShouldBe(2, apply.ToString());
        File.ReadAllText(s.Tree["reloads"]).ShouldBe("reloaded\n");
        File.ReadAllText(s.Tree["app.conf"]).ShouldBe("v2\n");
    }

    [Fact]
    public void MaxAge_OlderPlan_Refused()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);
        var doc = s.PlanJson;
        doc["createdAt"] = DateTimeOffset.UtcNow.AddHours(-3).ToString("O");
        File.WriteAllText(s.PlanPath, doc.ToJsonString());

        var old = s.ApplyPlan("--max-age", "2h");
        old.ExitCode.ShouldBe(1, old.ToString());
        old.Stderr.ShouldContain("was made 3 h ago, more than --max-age 2 h");
        File.Exists(s.Tree["new.conf"]).ShouldBeFalse();

        s.ApplyPlan("--max-age", "1d").ExitCode.ShouldBe(2);
    }

    [Theory]
    [InlineData("apply", "--out", "x.json")]
    [InlineData("apply", "--plan", "x.json", "--tags", "web")]
    [InlineData("apply", "--plan", "x.json", "--max-age", "soon")]
    [InlineData("apply", "--max-age", "1h")]
    public void PlanOptions_Misused_AreUsageErrors(params string[] args)
    {
        using var s = Prepared();
        var run = s.Run([.. args, s.Repo.Path]);
        run.ExitCode.ShouldBe(64, run.ToString());
        File.Exists(s.Tree["new.conf"]).ShouldBeFalse();
    }

    [Fact]
    public void PlanShow_PrintsThePlanLikeNoop()
    {
        using var s = Prepared();
        s.Plan().ExitCode.ShouldBe(2);

        var show = s.Run("plan", "show", s.PlanPath);

        show.ExitCode.ShouldBe(0, show.ToString());
        Golden.Verify("reviewed-plans/show.txt", Golden.Scrub(show.Stdout,
            (s.Tree.Path, "<tree>"), (s.PlanPath, "<plan>"), (s.Repo.Path, "<repo>"), (Environment.MachineName, "<host>"),
            (Environment.UserName, "<user>")));
    }

    private static string Git(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.ShouldBe(0, error);
        return output;
    }
}
