using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// converge undo, history, report show and bucket, through the built executable on real files in temp
/// directories: a run is reverted byte for byte (content, mode, owner, link target), the undo can itself
/// be undone, --noop touches nothing, and sensitive content is only ever shown by hash.
/// </summary>
public partial class UndoTests
{
    private static ConvergeRun Converge(TempDir state, params string[] args)
        => ConvergeProcess.Run([.. args, "--state-dir", state.Path]);

    /// <summary>Every entry under <paramref name="root"/>: kind, mode, uid, gid, link target and content hash.</summary>
    private static string Snapshot(string root)
    {
        var find = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("find", [root, "-mindepth", "1", "-printf", "%P %y %m %U %G %l\\n"])
        {
            RedirectStandardOutput = true,
        })!;
        var lines = find.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        find.WaitForExit();
        var result = new List<string>();
        foreach (var line in lines.Order(StringComparer.Ordinal))
        {
            var rel = line.Split(' ')[0];
            var full = Path.Combine(root, rel);
            var sha = line.Split(' ')[1] == "f" ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(full))) : "";
            result.Add(line.TrimEnd() + " " + sha);
        }
        return string.Join("\n", result);
    }

    private static string RoundTripManifest(TempDir t, bool owners) => $"""
        resources:
          - file: {t["changed.txt"]}
            content: "new content\n"
          - file: {t["created.txt"]}
            content: "created\n"
            mode: "0640"
          - file: {t["removed.txt"]}
            ensure: absent
          - file: {t["mode.txt"]}
            mode: "0600"
        {(owners ? $"""
          - file: {t["owned.txt"]}
            owner: "65534"
            group: "65534"
        """ : "")}
          - directory: {t["newdir"]}
            mode: "0750"
          - file: {t["newdir/inner.txt"]}
            content: "inner\n"
          - directory: {t["olddir"]}
            ensure: absent
          - link: {t["retarget"]}
            target: /etc/passwd
          - link: {t["newlink"]}
            target: created.txt
          - link: {t["oldlink"]}
            ensure: absent
          - exec: not-undoable
            command: [/bin/true]
        """;

    private static void Seed(TempDir t)
    {
        t.Write("changed.txt", "old content\n");
        t.Write("removed.txt", "removed\n");
        File.SetUnixFileMode(t.Write("mode.txt", "mode\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        t.Write("owned.txt", "owned\n");
        Directory.CreateDirectory(t["olddir"]);
        File.CreateSymbolicLink(t["retarget"], "/etc/hostname");
        File.CreateSymbolicLink(t["oldlink"], "changed.txt");
    }

    [Fact]
    public void Undo_RoundTrip_RestoresTheTreeExactly_AndUndoOfTheUndoRestoresTheAppliedState()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        Seed(t);
        // chown needs root (the CI runs as root); elsewhere the owner change is left out.
        var manifest = m.Write("m.yaml", RoundTripManifest(t, owners: Environment.IsPrivilegedProcess));
        var original = Snapshot(t.Path);

        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        var applied = Snapshot(t.Path);
        applied.ShouldNotBe(original);

        var undo = Converge(state, "undo", "last");
        undo.ExitCode.ShouldBe(2, undo.ToString());
        Snapshot(t.Path).ShouldBe(original, undo.ToString());
        undo.Stdout.ShouldContain("not undone: exec[not-undoable]: a command that ran cannot be unrun");

        var redo = Converge(state, "undo", "last");
        redo.ExitCode.ShouldBe(2, redo.ToString());
        Snapshot(t.Path).ShouldBe(applied, redo.ToString());

        // The undo's report says what it undid; undoing it again (the third time) is back to the original.
        var reports = Directory.GetFiles(Path.Combine(state.Path, "reports")).Order(StringComparer.Ordinal).ToList();
        reports.Count.ShouldBe(3);
        var first = JsonNode.Parse(File.ReadAllText(reports[0]))!;
        var second = JsonNode.Parse(File.ReadAllText(reports[1]))!;
        ((string)second["undo"]!["of"]!).ShouldBe((string)first["runId"]!);
        Converge(state, "undo", "last").ExitCode.ShouldBe(2);
        Snapshot(t.Path).ShouldBe(original);
    }

    [Fact]
    public void Apply_Report_RecordsTheStateBeforeAndAfterEachPathChange()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        File.SetUnixFileMode(t.Write("a.txt", "old\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var manifest = m.Write("m.yaml", $"""
            resources:
              - file: {t["a.txt"]}
                content: "new\n"
                mode: "0600"
              - link: {t["l"]}
                target: a.txt
            """);

        var report = JsonNode.Parse(Converge(state, "apply", manifest, "--json").Stdout)!;

        var file = report["resources"]!.AsArray().Single(r => (string)r!["type"]! == "file")!;
        ((string)file["before"]!["kind"]!).ShouldBe("file");
        ((string)file["before"]!["sha256"]!).ShouldBe(Convert.ToHexStringLower(SHA256.HashData("old\n"u8)));
        ((string)file["before"]!["mode"]!).ShouldBe("0644");
        ((int)file["before"]!["uid"]!).ShouldBe(int.Parse(RunOutput("id", "-u")));
        ((string)file["after"]!["sha256"]!).ShouldBe(Convert.ToHexStringLower(SHA256.HashData("new\n"u8)));
        ((string)file["after"]!["mode"]!).ShouldBe("0600");
        var link = report["resources"]!.AsArray().Single(r => (string)r!["type"]! == "link")!;
        ((string)link["before"]!["kind"]!).ShouldBe("absent");
        ((string)link["after"]!["kind"]!).ShouldBe("link");
        ((string)link["after"]!["target"]!).ShouldBe("a.txt");
    }

    private static string RunOutput(string file, params string[] args)
    {
        var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args) { RedirectStandardOutput = true })!;
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return output;
    }

    [Fact]
    public void Undo_ListsWhatItCannotUndo_AndLeavesADirectoryHoldingOthersFilesAlone()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("edited.conf", "a = 1\n");
        t.Write("purged/stray.txt", "stray\n");
        var manifest = m.Write("m.yaml", $"""
            resources:
              - line: setting
                path: {t["edited.conf"]}
                text: "b = 2"
              - directory: {t["purged"]}
                purge: true
              - directory: {t["made"]}
              - exec: touch-marker
                command: [/bin/true]
            """);
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        t.Write("made/user-file.txt", "not converge's\n"); // added after the run, inside a directory the run made
        var lineSha = Convert.ToHexStringLower(SHA256.HashData("a = 1\n"u8));
        var straySha = Convert.ToHexStringLower(SHA256.HashData("stray\n"u8));

        var undo = Converge(state, "undo", "last");

        undo.ExitCode.ShouldBe(0, undo.ToString()); // nothing left that undo can revert
        undo.Stdout.ShouldContain($"not undone: line[setting]: line edits are not undone; the file's content before the edit is in the bucket (converge bucket restore {lineSha} {t["edited.conf"]})");
        undo.Stdout.ShouldContain($"not undone: directory[{t["purged"]}]: purged {t["purged/stray.txt"]} is not put back (its content is in the bucket: converge bucket restore {straySha} {t["purged/stray.txt"]})");
        undo.Stdout.ShouldContain("not undone: exec[touch-marker]: a command that ran cannot be unrun");
        undo.Stdout.ShouldContain($"not undone: {t["made"]}: the run created this directory, but it now holds what the run did not create ({t["made/user-file.txt"]}); it is left in place");
        File.ReadAllText(t["made/user-file.txt"]).ShouldBe("not converge's\n");
        var report = JsonNode.Parse(Converge(state, "report", "show", "last", "--json").Stdout)!;
        report["undo"]!["cannotUndo"]!.AsArray().Count.ShouldBe(4);

        // The purged file comes back with the restore command the undo named.
        Converge(state, "bucket", "restore", straySha, t["purged/stray.txt"]).ExitCode.ShouldBe(2);
        File.ReadAllText(t["purged/stray.txt"]).ShouldBe("stray\n");
    }

    [Fact]
    public void Undo_LinkReplacedByADirectory_PutsTheLinkBack_UnlessTheDirectoryNowHoldsOthersFiles()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        File.CreateSymbolicLink(t["a"], "/etc/hostname");
        File.CreateSymbolicLink(t["b"], "/etc/hostname");
        var manifest = m.Write("m.yaml", $"""
            resources:
              - directory: {t["a"]}
                force: true
              - directory: {t["b"]}
                force: true
            """);
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        t.Write("b/precious.txt", "mine\n");

        var undo = Converge(state, "undo", "last");

        undo.ExitCode.ShouldBe(2, undo.ToString());
        new FileInfo(t["a"]).LinkTarget.ShouldBe("/etc/hostname");
        undo.Stdout.ShouldContain($"not undone: {t["b"]}: the run created this directory, but it now holds what the run did not create ({t["b/precious.txt"]}); it is left in place");
        File.ReadAllText(t["b/precious.txt"]).ShouldBe("mine\n");
    }

    [Fact]
    public void UndoNoop_ShowsTheDiffs_AndChangesNothing()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        Seed(t);
        var manifest = m.Write("m.yaml", RoundTripManifest(t, owners: false));
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        var applied = Snapshot(t.Path);
        var reportsBefore = Directory.GetFiles(Path.Combine(state.Path, "reports")).Length;

        var noop = Converge(state, "undo", "last", "--noop");

        noop.ExitCode.ShouldBe(2, noop.ToString());
        noop.Stdout.ShouldContain("-new content");
        noop.Stdout.ShouldContain("+old content");
        noop.Stdout.ShouldContain("(noop: nothing was changed)");
        Snapshot(t.Path).ShouldBe(applied);
        // A preview is recorded like apply --noop, and `undo last` still means the apply.
        Directory.GetFiles(Path.Combine(state.Path, "reports")).Length.ShouldBe(reportsBefore + 1);
        var undo = Converge(state, "undo", "last");
        undo.Stdout.ShouldContain("Run: undo of run ");
        File.ReadAllText(t["changed.txt"]).ShouldBe("old content\n");
    }

    [Fact]
    public void Undo_FileChangedSinceTheRun_SaysSo_AndOverwritesItWithABackup()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("a.txt", "before\n");
        var manifest = m.Write("m.yaml", $"resources:\n  - file: {t["a.txt"]}\n    content: \"applied\\n\"\n");
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        File.WriteAllText(t["a.txt"], "edited by hand\n");

        var undo = Converge(state, "undo", "last");

        undo.ExitCode.ShouldBe(2, undo.ToString());
        undo.Stdout.ShouldContain($"drift: {t["a.txt"]}: changed since run ");
        File.ReadAllText(t["a.txt"]).ShouldBe("before\n");
        var list = Converge(state, "bucket", "list", t["a.txt"]);
        list.Stdout.ShouldContain(Convert.ToHexStringLower(SHA256.HashData("edited by hand\n"u8)));
    }

    [Fact]
    public void Undo_ContentPrunedFromTheBucket_SaysItCannotRestoreIt()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("gone.txt", "precious\n");
        var manifest = m.Write("m.yaml", $"resources:\n  - file: {t["gone.txt"]}\n    ensure: absent\n");
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        var sha = Convert.ToHexStringLower(SHA256.HashData("precious\n"u8));
        File.Delete(Path.Combine(state.Path, "bucket", sha[..2], sha)); // what retention does to an old content

        var undo = Converge(state, "undo", "last");

        undo.ExitCode.ShouldBe(0, undo.ToString());
        undo.Stdout.ShouldContain($"{t["gone.txt"]}: its content before the run (sha256 {sha}) is not in the bucket");
        File.Exists(t["gone.txt"]).ShouldBeFalse();
    }

    [Fact]
    public void Retention_AfterManyRuns_KeepsTheNewestRunsBackups_AndUndoOfAnOldRunSaysItsContentWasPruned()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("a.conf", "v0\n");
        var manifest = m["m.yaml"];
        const int runs = 22; // the newest 20 runs' backups are protected; versions per path are 10
        for (var i = 1; i <= runs; i++)
        {
            m.Write("m.yaml", $"resources:\n  - file: {t["a.conf"]}\n    content: \"v{i}\\n\"\n");
            Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        }
        string Sha(int i) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"v{i}\n")));

        var list = Converge(state, "bucket", "list", t["a.conf"], "--json");
        var versions = JsonNode.Parse(list.Stdout)!.AsArray();

        // Runs 1 and 2 stored v0 and v1; they are outside the newest 20 and beyond 10 versions: pruned.
        versions.Count.ShouldBe(runs - 2);
        versions.Select(v => (string)v!["sha256"]!).ShouldNotContain(Sha(0));
        versions.Select(v => (string)v!["sha256"]!).ShouldNotContain(Sha(1));
        File.Exists(Path.Combine(state.Path, "bucket", Sha(0)[..2], Sha(0))).ShouldBeFalse();
        File.Exists(Path.Combine(state.Path, "bucket", Sha(2)[..2], Sha(2))).ShouldBeTrue();

        var firstRun = RunIdOf(state, 0);
        var undo = Converge(state, "undo", firstRun, "--noop");
        undo.Stdout.ShouldContain($"its content before the run (sha256 {Sha(0)}) is not in the bucket (the resource had backup off, or the content was pruned)");
    }

    [Fact]
    public void Retention_ConfigReportsKeep3_KeepsTheNewestThreeReportsAfterFiveRuns()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        var config = m.Write("converge.yaml", "retention:\n  reports:\n    keep: 3\n");
        var manifest = m["m.yaml"];
        var runIds = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            m.Write("m.yaml", $"resources:\n  - file: {t["a.conf"]}\n    content: \"v{i}\\n\"\n");
            var run = Converge(state, "apply", manifest, "--config", config, "--json");
            run.ExitCode.ShouldBe(2, run.ToString());
            runIds.Add((string)JsonNode.Parse(run.Stdout)!["runId"]!);
        }

        Directory.GetFiles(Path.Combine(state.Path, "reports"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)
            .ShouldBe(runIds.Skip(2));

        // Without the config, the default (200) keeps every report of the same runs.
        using var other = new TempDir();
        for (var i = 1; i <= 5; i++) Converge(other, "apply", manifest).ExitCode.ShouldBeOneOf(0, 2);
        Directory.GetFiles(Path.Combine(other.Path, "reports"), "*.json").Length.ShouldBe(5);
    }

    [Fact]
    public void Retention_ConfigBucketVersionsPerPath_IsHonouredByApplyAndUndo()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        // Two reports kept: only the newest two runs' backups are protected, so versions_per_path decides the rest.
        var config = m.Write("converge.yaml", "retention:\n  reports:\n    keep: 2\n  bucket:\n    versions_per_path: 2\n    max_age: 30d\n    max_size: 1MiB\n");
        t.Write("a.conf", "v0\n");
        var manifest = m["m.yaml"];
        for (var i = 1; i <= 5; i++)
        {
            m.Write("m.yaml", $"resources:\n  - file: {t["a.conf"]}\n    content: \"v{i}\\n\"\n");
            Converge(state, "apply", manifest, "--config", config).ExitCode.ShouldBe(2);
        }
        string Sha(int i) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"v{i}\n")));
        string[] Stored() => JsonNode.Parse(Converge(state, "bucket", "list", t["a.conf"], "--json").Stdout)!.AsArray()
            .Select(v => (string)v!["sha256"]!).Order(StringComparer.Ordinal).ToArray();

        // Run i backed up v(i-1): the newest two versions stay, the older contents are deleted.
        Stored().ShouldBe(new[] { Sha(3), Sha(4) }.Order(StringComparer.Ordinal));
        File.Exists(Path.Combine(state.Path, "bucket", Sha(2)[..2], Sha(2))).ShouldBeFalse();

        // undo prunes with the same settings: its own backup (v5) pushes v3 out.
        var undo = Converge(state, "undo", "last", "--config", config);
        undo.ExitCode.ShouldBe(2, undo.ToString());
        File.ReadAllText(t["a.conf"]).ShouldBe("v4\n");
        Stored().ShouldBe(new[] { Sha(4), Sha(5) }.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Retention_BadConfigValue_StopsTheRunWithItsPosition_AndTouchesNothing()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        var config = m.Write("converge.yaml", "retention:\n  bucket:\n    max_size: 1GB\n");
        var manifest = m.Write("m.yaml", $"resources:\n  - file: {t["a.conf"]}\n    content: \"a\\n\"\n");

        var run = Converge(state, "apply", manifest, "--config", config);

        run.ExitCode.ShouldBe(64);
        run.Stderr.ShouldContain($"{config}:3:15: error CVG5011: retention.bucket.max_size must be a size above 0 in B, KiB, MiB, GiB or TiB, such as 512MiB or 1GiB; got '1GB'");
        File.Exists(t["a.conf"]).ShouldBeFalse();
        Directory.Exists(Path.Combine(state.Path, "reports")).ShouldBeFalse();
    }

    [Fact]
    public void Undo_NoopRun_IsRefused()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        var manifest = m.Write("m.yaml", $"resources:\n  - file: {t["a"]}\n    content: \"a\\n\"\n");
        var noop = Converge(state, "apply", manifest, "--noop", "--json");
        var runId = (string)JsonNode.Parse(noop.Stdout)!["runId"]!;

        var byId = Converge(state, "undo", runId);
        byId.ExitCode.ShouldBe(64);
        byId.Stderr.ShouldBe($"converge: undo: run {runId} was a --noop run: it changed nothing, so there is nothing to undo\n");

        var last = Converge(state, "undo", "last");
        last.ExitCode.ShouldBe(64);
        last.Stderr.ShouldContain("no run in ");
        last.Stderr.ShouldContain("changed anything (every report there is a --noop run); nothing was changed");
        File.Exists(t["a"]).ShouldBeFalse();
    }

    [Fact]
    public void Undo_UnknownRun_IsRefused()
    {
        using var state = new TempDir();
        var run = Converge(state, "undo", "20200101T000000Z-abcdef");
        run.ExitCode.ShouldBe(64);
        run.Stderr.ShouldBe($"converge: undo: no run '20200101T000000Z-abcdef' in {state.Path}/reports (see 'converge history'; older reports are pruned as retention.reports says); nothing was changed\n");
        var last = Converge(state, "report", "show", "last");
        last.ExitCode.ShouldBe(64);
        last.Stderr.ShouldBe($"converge: report show: no runs recorded in {state.Path}/reports\n");
    }

    [Fact]
    public void HistoryReportShowAndBucketList_MatchGoldens()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("app.conf", "port = 80\n");
        t.Write("old.txt", "old\n");
        var manifest = m.Write("m.yaml", $"""
            resources:
              - file: {t["app.conf"]}
                content: "port = 8080\n"
              - file: {t["old.txt"]}
                ensure: absent
            """);
        Converge(state, "apply", manifest, "--noop").ExitCode.ShouldBe(2);
        Converge(state, "apply", manifest, "--operator", "alice@laptop").ExitCode.ShouldBe(2); // as converge ssh passes it
        Converge(state, "undo", "last").ExitCode.ShouldBe(2);

        string Clean(string text) => Golden.Scrub(TableTimes().Replace(text, "<time>"),
            (t.Path, "<dir>"), (m.Path, "<manifests>"), (state.Path, "<state>"), (Environment.UserName, "<user>"),
            ("of node " + Environment.MachineName, "of node <node>"));
        // Column widths follow the scrubbed values (temp paths, user names): tables compare with single gaps.
        string CleanTable(string text) => MultiSpace().Replace(Clean(text), "  ");
        Golden.Verify("history/history.txt", CleanTable(Converge(state, "history").Stdout));
        Golden.Verify("history/report-show-apply.txt", Clean(Converge(state, "report", "show", RunIdOf(state, 1)).Stdout));
        Golden.Verify("history/report-show-undo.txt", Clean(Converge(state, "report", "show", "last").Stdout));
        Golden.Verify("history/bucket-list.txt", CleanTable(Converge(state, "bucket", "list").Stdout));
        Golden.Verify("history/bucket-list-path.txt", CleanTable(Converge(state, "bucket", "list", t["app.conf"]).Stdout));

        var json = JsonNode.Parse(Converge(state, "history", "--json", "-n", "2").Stdout)!.AsArray();
        json.Count.ShouldBe(2);
        ((string)json[0]!["kind"]!).ShouldBe("undo");
        ((string)json[1]!["kind"]!).ShouldBe("apply");
        ((string)json[1]!["operator"]!).ShouldBe("alice@laptop");
        json[0]!["operator"].ShouldBeNull();
        var stored = Converge(state, "report", "show", "last", "--json").Stdout;
        stored.ShouldBe(File.ReadAllText(Path.Combine(state.Path, "reports", RunIdOf(state, 2) + ".json")));
        var show = Converge(state, "bucket", "show", Convert.ToHexStringLower(SHA256.HashData("port = 80\n"u8)));
        show.ExitCode.ShouldBe(0);
        show.Stdout.ShouldBe("port = 80\n");
    }

    private static string RunIdOf(TempDir state, int index) =>
        Path.GetFileNameWithoutExtension(Directory.GetFiles(Path.Combine(state.Path, "reports")).Order(StringComparer.Ordinal).ElementAt(index));

    [Fact]
    public void SensitiveFile_BucketListReportShowAndUndo_ShowOnlyHashes()
    {
        const string secret = "s3cr3t-bucket-value-never-print";
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("token", "old-" + secret + "\n");
        m.Write("site.yaml", $$$"""
            secrets:
              token: { env: UNDO_TEST_TOKEN }
            resources:
              - file: {{{t["token"]}}}
                content: "{{ secrets.token }}\n"
                mode: "0600"
            """);
        var env = new Dictionary<string, string?> { ["UNDO_TEST_TOKEN"] = "new-" + secret };
        var outputs = new List<ConvergeRun>();
        ConvergeRun Run(params string[] args)
        {
            var run = ConvergeProcess.Run([.. args, "--state-dir", state.Path, "-v"], environment: env);
            outputs.Add(run);
            return run;
        }

        Run("apply", m.Path).ExitCode.ShouldBe(2);
        var oldSha = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("old-" + secret + "\n")));
        var list = Run("bucket", "list", t["token"]);
        list.Stdout.ShouldContain(oldSha + " (sensitive)");
        Run("bucket", "list", "--json", t["token"]).Stdout.ShouldContain("\"size\": null");
        var show = Run("bucket", "show", oldSha);
        show.ExitCode.ShouldBe(4);
        show.Stderr.ShouldContain("is sensitive content");
        Run("report", "show", "last").ExitCode.ShouldBe(0);
        Run("report", "show", "last", "--json");
        Run("history");
        File.WriteAllText(t["token"], "drifted-" + secret + "\n"); // drift behind converge's back
        var drift = Run("undo", "last", "--noop");
        drift.ExitCode.ShouldBe(2);
        drift.Stdout.ShouldContain("drift: ");
        Run("undo", "last").ExitCode.ShouldBe(2);
        File.ReadAllText(t["token"]).ShouldBe("old-" + secret + "\n"); // restored on the host, never shown
        Run("report", "show", "last");
        Run("undo", "last", "--json");
        Run("bucket", "restore", oldSha, t["copy"]).ExitCode.ShouldBe(2);
        Convert.ToString((int)File.GetUnixFileMode(t["copy"]), 8).ShouldBe("600");
        File.ReadAllText(t["copy"]).ShouldBe("old-" + secret + "\n"); // stored, restorable, never printed

        foreach (var run in outputs)
        {
            run.Stdout.ShouldNotContain(secret);
            run.Stderr.ShouldNotContain(secret);
        }
        foreach (var report in Directory.GetFiles(Path.Combine(state.Path, "reports")))
            File.ReadAllText(report).ShouldNotContain(secret);
        foreach (var index in Directory.GetFiles(Path.Combine(state.Path, "bucket", "index")))
            File.ReadAllText(index).ShouldNotContain(secret);
    }

    [Fact]
    public void SecretTextInAnUnmarkedFile_IsNeverShown_ByUndoOrBucketShow()
    {
        // The old file held the secret's text, though the resource replacing it is not sensitive: the run
        // scrubbed its diff with the secrets it knew; undo and bucket show, which know none, must not print it.
        const string secret = "pl41n-s3cr3t-in-old-file";
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("app.conf", $"password = {secret}\n");
        m.Write("site.yaml", $$$"""
            secrets:
              pw: { env: UNDO_TEST_PW }
            resources:
              - file: {{{t["app.conf"]}}}
                content: "password = from-vault\n"
              - exec: uses-secret
                command: "true {{ secrets.pw }}"
                creates: /
            """);
        var env = new Dictionary<string, string?> { ["UNDO_TEST_PW"] = secret };
        var apply = ConvergeProcess.Run(["apply", m.Path, "--state-dir", state.Path], environment: env);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        apply.Stdout.ShouldNotContain(secret);
        var oldSha = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"password = {secret}\n")));

        var noop = Converge(state, "undo", "last", "--noop");
        var show = Converge(state, "bucket", "show", oldSha);
        var undo = Converge(state, "undo", "last");

        noop.ExitCode.ShouldBe(2, noop.ToString());
        show.ExitCode.ShouldBe(4);
        show.Stderr.ShouldContain("it holds secret text and is never printed");
        foreach (var run in new[] { noop, show, undo })
        {
            run.Stdout.ShouldNotContain(secret);
            run.Stderr.ShouldNotContain(secret);
        }
        File.ReadAllText(t["app.conf"]).ShouldBe($"password = {secret}\n");
    }

    [Fact]
    public void BucketRestore_IsARunThatBacksUpWhatItReplaces_AndCanBeUndone()
    {
        using var m = new TempDir();
        using var t = new TempDir();
        using var state = new TempDir();
        t.Write("a.conf", "v1\n");
        var manifest = m.Write("m.yaml", $"resources:\n  - file: {t["a.conf"]}\n    content: \"v2\\n\"\n");
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        File.SetUnixFileMode(t["a.conf"], UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var v1 = Convert.ToHexStringLower(SHA256.HashData("v1\n"u8));

        var noop = Converge(state, "bucket", "restore", v1, t["a.conf"], "--noop");
        noop.ExitCode.ShouldBe(2);
        noop.Stdout.ShouldContain("+v1");
        File.ReadAllText(t["a.conf"]).ShouldBe("v2\n");

        var restore = Converge(state, "bucket", "restore", v1, t["a.conf"]);
        restore.ExitCode.ShouldBe(2, restore.ToString());
        File.ReadAllText(t["a.conf"]).ShouldBe("v1\n");
        Convert.ToString((int)File.GetUnixFileMode(t["a.conf"]), 8).ShouldBe("600"); // an existing file keeps its mode
        var report = JsonNode.Parse(Converge(state, "report", "show", "last", "--json").Stdout)!;
        ((string)report["restore"]!["sha256"]!).ShouldBe(v1);

        Converge(state, "undo", "last").ExitCode.ShouldBe(2);
        File.ReadAllText(t["a.conf"]).ShouldBe("v2\n");

        var bad = Converge(state, "bucket", "restore", new string('0', 64), t["a.conf"]);
        bad.ExitCode.ShouldBe(4);
        bad.Stderr.ShouldContain("is not in ");
        Converge(state, "bucket", "restore", "xyz", t["a.conf"]).ExitCode.ShouldBe(64);
    }

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")]
    private static partial Regex TableTimes();

    [GeneratedRegex(@" {2,}")]
    private static partial Regex MultiSpace();
}
