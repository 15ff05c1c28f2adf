using System.Diagnostics;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>The command line as a user meets it: commands, flags, exit codes, the lock, reports, revisions.</summary>
public class CliTests
{
    private static ConvergeRun Converge(TempDir state, params string[] args)
        => ConvergeProcess.Run([.. args, "--state-dir", state.Path]);

    [Fact]
    public void NoCommand_IsUsageError()
    {
        var run = ConvergeProcess.Run();
        run.ExitCode.ShouldBe(64);
        run.Stderr.ShouldContain("converge --noop");
    }

    [Fact]
    public void UnknownOption_IsUsageError()
    {
        var run = ConvergeProcess.Run("apply", "--frobnicate");
        run.ExitCode.ShouldBe(64);
        run.Stderr.ShouldContain("--frobnicate");
    }

    [Fact]
    public void Help_ListsCommands()
    {
        var run = ConvergeProcess.Run("--help");
        run.ExitCode.ShouldBe(0);
        foreach (var command in new[] { "apply", "validate", "facts", "graph", "catalog", "agent" }) run.Stdout.ShouldContain(command);
    }

    [Fact]
    public void NoopShorthand_EqualsApplyNoop_AndTouchesNothing()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", $"resources:\n  - file: {dir["out.txt"]}\n    content: \"hello\\n\"\n");
        var run = ConvergeProcess.Run(["--noop", "--state-dir", state.Path], workingDirectory: dir.Path);
        run.ExitCode.ShouldBe(2, run.ToString());
        run.Stdout.ShouldContain("+hello");
        File.Exists(dir["out.txt"]).ShouldBeFalse();
    }

    [Fact]
    public void Json_PrintsTheReport_AndSavesIt()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var manifest = dir.Write("m.yaml", $"resources:\n  - file: {dir["a"]}\n    content: \"a\\n\"\n");
        var run = Converge(state, "apply", manifest, "--json");
        run.ExitCode.ShouldBe(2, run.ToString());
        var report = JsonNode.Parse(run.Stdout)!;
        ((int)report["formatVersion"]!).ShouldBe(1);
        ((string)report["resources"]![0]!["status"]!).ShouldBe("changed");
        ((int)report["exitCode"]!).ShouldBe(2);
        var saved = Directory.GetFiles(Path.Combine(state.Path, "reports")).ShouldHaveSingleItem();
        File.ReadAllText(saved).ShouldBe(run.Stdout);
        JsonNode.Parse(File.ReadAllText(Path.Combine(state.Path, "last_run.json")))!["exitCode"]!.GetValue<int>().ShouldBe(2);
    }

    [Fact]
    public void Tags_RunOnlyTaggedAndWhatTheyRequire()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - directory: {dir["web"]}
              - file: {dir["web/index.html"]}
                content: "hi\n"
                tags: [web]
              - file: {dir["db.conf"]}
                content: "db\n"
                tags: db
            """);
        var run = Converge(state, "apply", manifest, "--tags", "web", "--json");
        run.ExitCode.ShouldBe(2, run.ToString());
        File.Exists(dir["web/index.html"]).ShouldBeTrue();
        File.Exists(dir["db.conf"]).ShouldBeFalse();
        JsonNode.Parse(run.Stdout)!["resources"]!.AsArray().Count.ShouldBe(2);
    }

    [Fact]
    public void Node_SelectsTheMatchingNodeEntry()
    {
        using var dir = new TempDir();
        dir.Write("site.yaml", $"""
            nodes:
              - match: "web-*"
                resources:
                  - file: {dir["role"]}
                    content: "web\n"
              - match: "*"
                resources:
                  - file: {dir["role"]}
                    content: "other\n"
            """);
        using var state = new TempDir();
        Converge(state, "catalog", dir.Path, "--node", "web-01").Stdout.ShouldContain("\"content\": \"web\\n\"");
        Converge(state, "catalog", dir.Path, "--node", "db-01").Stdout.ShouldContain("\"content\": \"other\\n\"");
    }

    [Fact]
    public void Facts_PrintsJsonOfThisHost()
    {
        using var state = new TempDir();
        using var factsDir = new TempDir();
        factsDir.Write("team.yaml", "team: platform\n");
        var run = Converge(state, "facts", "--facts-dir", factsDir.Path);
        run.ExitCode.ShouldBe(0, run.ToString());
        var facts = JsonNode.Parse(run.Stdout)!;
        ((string)facts["os"]!["id"]!).ShouldBe("debian");
        ((string)facts["team"]!).ShouldBe("platform");
        ((int)facts["processors"]!["count"]!).ShouldBe(Environment.ProcessorCount);
    }

    [Fact]
    public void Graph_AllFormats_ShowEdges()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - directory: {dir["etc"]}
              - file: {dir["etc/app.conf"]}
                content: "x\n"
                notify: exec[reload]
              - exec: reload
                command: "true"
                refreshonly: true
            """);
        var dot = Converge(state, "graph", manifest);
        dot.ExitCode.ShouldBe(0, dot.ToString());
        dot.Stdout.ShouldContain($"\"directory[{dir["etc"]}]\" -> \"file[{dir["etc/app.conf"]}]\" [style=dashed, label=\"auto\"];");
        dot.Stdout.ShouldContain($"\"file[{dir["etc/app.conf"]}]\" -> \"exec[reload]\" [color=\"#c0392b\", label=\"notify\"];");
        Converge(state, "graph", manifest, "--format", "mermaid").Stdout.ShouldStartWith("flowchart LR");
        JsonNode.Parse(Converge(state, "graph", manifest, "--format", "json").Stdout)!["edges"]!.AsArray().Count.ShouldBe(2);
        Converge(state, "graph", manifest, "--format", "png").ExitCode.ShouldBe(64);
    }

    [Fact]
    public void ExampleSite_Noop_RunsCleanlyOnThisMachine()
    {
        using var state = new TempDir();
        var run = Converge(state, "--noop", Path.Combine(Golden.RepositoryRoot(), "manifests", "example"));
        run.ExitCode.ShouldBeOneOf([0, 2], run.ToString());
        run.Stderr.ShouldBeEmpty();
        run.Stdout.ShouldContain("(noop: nothing was changed)");
        run.Stdout.ShouldNotContain("! ");
    }

    [Fact]
    public async Task Graph_Dot_IsAcceptedByGraphviz()
    {
        using var state = new TempDir();
        var graph = Converge(state, "graph", Path.Combine(Golden.RepositoryRoot(), "manifests", "example"));
        graph.ExitCode.ShouldBe(0, graph.ToString());
        // The real Graphviz (installed by .ci/run): `converge graph | dot -Tsvg` must work as documented.
        var psi = new ProcessStartInfo("dot", "-Tsvg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var dot = Process.Start(psi)!;
        dot.StandardInput.Write(graph.Stdout);
        dot.StandardInput.Close();
        var svgRead = dot.StandardOutput.ReadToEndAsync();
        var errors = await dot.StandardError.ReadToEndAsync();
        await dot.WaitForExitAsync();
        var svg = await svgRead;
        dot.ExitCode.ShouldBe(0, errors);
        svg.ShouldContain("<svg");
        svg.ShouldContain("exec[demo&#45;app&#45;reload]"); // dot escapes "-" in SVG text
    }

    [Fact]
    public void Validate_GoodManifest_SaysSoAndExitsZero()
    {
        using var state = new TempDir();
        var run = Converge(state, "validate", Path.Combine(Golden.RepositoryRoot(), "manifests", "example"));
        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldContain("valid for node");
    }

    [Fact]
    public void Lock_SecondRunWaitsThenNamesTheHolder()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var slow = dir.Write("slow.yaml", $"resources:\n  - exec: slow\n    command: \"sleep 4; touch {dir["done"]}\"\n    creates: {dir["done"]}\n");
        var fast = dir.Write("fast.yaml", $"resources:\n  - file: {dir["x"]}\n    content: \"x\\n\"\n");
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "apply", slow, "--state-dir", state.Path }) psi.ArgumentList.Add(a);
        using var first = Process.Start(psi)!;
        try
        {
            // Wait until the first run holds the lock (its pid is written into the lock file).
            var lockFile = Path.Combine(state.Path, "converge.lock");
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline && !(File.Exists(lockFile) && Machine.RunLock.ReadHolderPid(lockFile) == first.Id))
                Thread.Sleep(20);
            var second = Converge(state, "apply", fast, "--lock-timeout", "0.5");
            second.ExitCode.ShouldBe(4, second.ToString());
            second.Stderr.ShouldContain($"pid {first.Id}");
            File.Exists(dir["x"]).ShouldBeFalse();
        }
        finally
        {
            first.WaitForExit(20_000).ShouldBeTrue();
        }
        first.ExitCode.ShouldBe(2);
        Converge(state, "apply", fast).ExitCode.ShouldBe(2); // the lock is free again
    }

    [Fact]
    public void Report_InGitRepo_NamesRevisionAuthorAndDirtyFlag()
    {
        using var repo = new TempDir();
        using var target = new TempDir();
        using var state = new TempDir();
        repo.Write("site.yaml", $"resources:\n  - file: {target["motd"]}\n    content: \"hi\\n\"\n");
        Git(repo.Path, "init", "-q", "-b", "main");
        Git(repo.Path, "add", ".");
        Git(repo.Path, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-q", "-m", "raise worker count");
        var commit = Git(repo.Path, "rev-parse", "HEAD").Trim();

        var run = Converge(state, "apply", repo.Path, "--json");
        var revision = JsonNode.Parse(run.Stdout)!["manifest"]!["revision"]!;
        ((string)revision["commit"]!).ShouldBe(commit);
        ((string)revision["author"]!).ShouldBe("Alice <alice@example.com>");
        ((string)revision["subject"]!).ShouldBe("raise worker count");
        ((bool)revision["dirty"]!).ShouldBeFalse();

        File.AppendAllText(repo["site.yaml"], "# local edit\n");
        var dirty = Converge(state, "apply", repo.Path, "--noop");
        dirty.Stdout.ShouldContain($"revision {commit[..7]} (dirty)");
    }

    [Fact]
    public void Noop_DownstreamOfPendingChange_SaysUnknownInsteadOfGuessing()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - file: {dir["tool.sh"]}
                content: "#!/bin/sh\nexit 0\n"
                mode: "0755"
              - exec: configure
                command: "touch {dir["configured"]}"
                unless: "{dir["tool.sh"]}"
                require: file[{dir["tool.sh"]}]
            """);
        var plan = Converge(state, "apply", manifest, "--noop");
        plan.ExitCode.ShouldBe(2, plan.ToString());
        plan.Stdout.ShouldContain($"? exec[configure]: depends on pending change to file[{dir["tool.sh"]}]");
        Converge(state, "apply", manifest).ExitCode.ShouldBe(2);
        File.Exists(dir["configured"]).ShouldBeFalse(); // unless succeeded once the tool existed
    }

    [Fact]
    public void Refresh_KilledBeforeDelivery_IsDeliveredByNextRun()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("slow", "");
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - file: {dir["app.conf"]}
                content: "v2\n"
                notify: exec[restart]
              - exec: restart
                command: "if [ -f {dir["slow"]} ]; then sleep 3; fi; echo restarted >> {dir["restarts"]}"
                refreshonly: true
            """);
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "apply", manifest, "--state-dir", state.Path }) psi.ArgumentList.Add(a);
        using (var run = Process.Start(psi)!)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline && !File.Exists(dir["app.conf"])) Thread.Sleep(10);
            Thread.Sleep(300); // inside the slow restart now
            run.Kill(); // SIGKILL: no chance to clean up
            run.WaitForExit();
        }
        Thread.Sleep(3500); // let the orphaned sleep finish its echo, if it gets there
        File.Delete(dir["slow"]);
        File.ReadAllText(dir["app.conf"]).ShouldBe("v2\n");
        File.Exists(Path.Combine(state.Path, "refresh-journal.json")).ShouldBeTrue();

        var next = Converge(state, "apply", manifest);
        next.ExitCode.ShouldBe(2, next.ToString());
        next.Stdout.ShouldContain($"refreshed (notified by file[{dir["app.conf"]}] (pending since run");
        Converge(state, "apply", manifest).ExitCode.ShouldBe(0); // delivered once, then forgotten
    }

    [Fact]
    public async Task Interrupt_LetsRunningResourceFinish_SkipsTheRest_AndReports()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - exec: slow
                command: "touch {dir["slow-started"]}; while [ ! -e {dir["release"]} ]; do sleep 0.05; done; touch {dir["slow-done"]}"
                creates: {dir["slow-done"]}
              - exec: after
                command: "touch {dir["after-done"]}"
                creates: {dir["after-done"]}
                require: exec[slow]
            """);
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "apply", manifest, "--state-dir", state.Path, "--json" }) psi.ArgumentList.Add(a);
        using var run = Process.Start(psi)!;
        var stdout = run.StandardOutput.ReadToEndAsync();
        // No fixed sleeps (they flake on a loaded machine): interrupt once the slow resource runs, and let it
        // finish only after converge has said it saw the interrupt.
        SpinWait.SpinUntil(() => File.Exists(dir["slow-started"]), TimeSpan.FromSeconds(60)).ShouldBeTrue("exec[slow] never started");
        using (var kill = Process.Start("kill", ["-INT", run.Id.ToString()])) kill.WaitForExit();
        string? line;
        while ((line = run.StandardError.ReadLine()) is not null && !line.Contains("interrupted: letting the running resource finish")) { }
        line.ShouldNotBeNull($"converge never acknowledged the interrupt (exit {(run.WaitForExit(5000) ? run.ExitCode : -1)})");
        File.WriteAllText(dir["release"], "");
        _ = run.StandardError.ReadToEndAsync();
        run.WaitForExit(20_000).ShouldBeTrue();

        run.ExitCode.ShouldBe(6);
        File.Exists(dir["slow-done"]).ShouldBeTrue();
        File.Exists(dir["after-done"]).ShouldBeFalse();
        var report = JsonNode.Parse(await stdout)!;
        ((bool)report["interrupted"]!).ShouldBeTrue();
        ((string)report["resources"]![1]!["status"]!).ShouldBe("skipped");
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

/// <summary>The modules that ship with Converge compile, validate and plan cleanly on this machine.</summary>
public class ShippedModuleTests
{
    [Fact]
    public void ShippedModules_IncludedWithParams_PlanWithoutErrors()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", """
            nodes:
              - match: "*"
                include:
                  - motd: { message: "Managed by Converge", contact: ops@example.com }
                  - sysctl: { name: tuning, settings: { vm.swappiness: 10, net.core.somaxconn: 1024 } }
                  - logrotate: { name: myapp, paths: [/var/log/myapp/*.log], rotate: 7 }
            """);
        var validate = ConvergeProcess.Run("validate", dir.Path, "--state-dir", state.Path);
        validate.ExitCode.ShouldBe(0, validate.ToString());
        var catalog = ConvergeProcess.Run("catalog", dir.Path, "--state-dir", state.Path);
        catalog.Stdout.ShouldContain("vm.swappiness = 10");
        catalog.Stdout.ShouldContain("/var/log/myapp/*.log {");
        var plan = ConvergeProcess.Run("apply", "--noop", dir.Path, "--state-dir", state.Path);
        plan.ExitCode.ShouldBeOneOf(0, 2);
        plan.Stderr.ShouldBeEmpty();
    }

    [Fact]
    public void UsersModule_Compiles_PlansWithoutErrors_UnsetKeysAreNotManaged()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", """
            include:
              - users:
                  groups:
                    cvgtest-deploy: { gid: 52000 }
                    cvgtest-ops: { system: true }
                  accounts:
                    cvgtest-deploy:
                      uid: 52001
                      groups: [cvgtest-ops]
                      shell: /bin/bash
                      keys:
                        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICtIywl7umHz0JSzGYhip00SZwQHQTjXLTKmawbnA6J2 one@laptop
                        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICtIywl7umHz0JSzGYhip00SZwQHQTjXLTKmawbnA6J2 two@laptop
                      sudo: "cvgtest-deploy ALL=(root) /usr/bin/true"
                    cvgtest-admin: { sudo: true }
                    cvgtest-plain: {}
                  absent: [cvgtest-gone]
                  sudo_nopasswd: true
            """);
        var validate = ConvergeProcess.Run("validate", dir.Path, "--state-dir", state.Path);
        validate.ExitCode.ShouldBe(0, validate.ToString());
        var catalog = ConvergeProcess.Run("catalog", dir.Path, "--state-dir", state.Path);
        catalog.ExitCode.ShouldBe(0, catalog.ToString());
        catalog.Stdout.ShouldContain("authorized_key[users:cvgtest-deploy:0]");
        catalog.Stdout.ShouldContain("authorized_key[users:cvgtest-deploy:1]");
        catalog.Stdout.ShouldContain("cvgtest-admin ALL=(ALL:ALL) NOPASSWD: ALL");
        catalog.Stdout.ShouldContain("visudo -cf %");
        var plan = ConvergeProcess.Run("apply", "--noop", dir.Path, "--state-dir", state.Path);
        plan.ExitCode.ShouldBe(2, plan.ToString());
        plan.Stderr.ShouldBeEmpty();
        plan.Stdout.ShouldContain("groupadd --gid 52000 cvgtest-deploy");
        plan.Stdout.ShouldContain("useradd --uid 52001 --gid cvgtest-deploy --groups cvgtest-ops --create-home --shell /bin/bash cvgtest-deploy",
            customMessage: "a group named like the account becomes its primary group");
        plan.Stdout.ShouldContain("useradd --create-home cvgtest-plain", customMessage: "keys not given are not managed");
        plan.Stdout.ShouldNotContain("sudoers.d/cvgtest-plain", customMessage: "no sudo and no file: nothing to remove");
    }

    /// <summary>The content the sshd module renders for <paramref name="include"/> (an include line under <c>include:</c>).</summary>
    private static string SshdConfig(string include)
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", "include:\n" + include + "\n");
        var catalog = ConvergeProcess.Run("catalog", dir.Path, "--state-dir", state.Path);
        catalog.ExitCode.ShouldBe(0, catalog.ToString());
        var file = System.Text.Json.Nodes.JsonNode.Parse(catalog.Stdout)!["resources"]!.AsArray()
            .Single(r => (string)r!["id"]! == "file[/etc/ssh/sshd_config]")!;
        ((string)file["properties"]!["validate"]!).ShouldBe("/usr/sbin/sshd -t -f %");
        ((string)file["properties"]!["mode"]!).ShouldBe("0600");
        return (string)file["properties"]!["content"]!;
    }

    [Fact]
    public void SshdModule_Defaults_RenderTheHardenedConfig()
    {
        SshdConfig("  - sshd").ShouldBe("""
            # Managed by Converge (module sshd). Local edits are overwritten.
            # Checked with `sshd -t` before it replaces the live file. See sshd_config(5).
            Port 22
            HostKey /etc/ssh/ssh_host_ed25519_key
            HostKey /etc/ssh/ssh_host_rsa_key
            LogLevel VERBOSE
            LoginGraceTime 30
            PermitRootLogin no
            StrictModes yes
            MaxAuthTries 3
            MaxSessions 10
            PubkeyAuthentication yes
            PasswordAuthentication no
            PermitEmptyPasswords no
            KbdInteractiveAuthentication no
            UsePAM yes
            X11Forwarding no
            AllowAgentForwarding no
            AllowTcpForwarding no
            PermitTunnel no
            PermitUserEnvironment no
            PrintMotd no
            ClientAliveInterval 300
            ClientAliveCountMax 2
            Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr
            KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256
            MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com
            AcceptEnv LANG LC_*
            Subsystem sftp internal-sftp

            """);
    }

    [Fact]
    public void SshdModule_Settings_ReplaceInPlace_NullRemoves_ListsRepeat_MatchLast()
    {
        var config = SshdConfig("""
              - sshd:
                  port: 2222
                  listen_addresses: [10.0.0.5, "::1"]
                  include_drop_ins: true
                  allow_users: [deploy, "alice@10.0.0.*"]
                  deny_groups: [nologin]
                  permit_root_login: false
                  allow_tcp_forwarding: local
                  banner: /etc/issue.net
                  macs: []
                  sftp_server: ""
                  settings:
                    passwordauthentication: true
                    ciphers: aes256-gcm@openssh.com
                    AcceptEnv: null
                    HostKey: [/etc/ssh/a_key, /etc/ssh/b_key]
                    MaxStartups: "10:30:60"
                  match:
                    - criteria: User backup
                      settings: { ForceCommand: internal-sftp, PasswordAuthentication: false, PermitListen: [localhost:8080, localhost:8081] }
            """);
        var lines = config.Split('\n');
        lines[2..5].ShouldBe(["Include /etc/ssh/sshd_config.d/*.conf", "Port 2222", "ListenAddress 10.0.0.5"], "drop-ins first, as Debian writes it");
        config.ShouldContain("ListenAddress ::1\nHostKey /etc/ssh/a_key\nHostKey /etc/ssh/b_key\nLogLevel VERBOSE\n", customMessage: "a list setting is one line per item, where the keyword stood");
        config.ShouldContain("\nPermitRootLogin no\n");
        config.ShouldContain("\npasswordauthentication yes\nPermitEmptyPasswords no\n", customMessage: "replaced in place, whatever the case");
        config.ShouldNotContain("PasswordAuthentication no\nPermitEmpty");
        config.ShouldContain("\nAllowUsers deploy alice@10.0.0.*\nDenyGroups nologin\n");
        config.ShouldContain("\nAllowTcpForwarding local\n");
        config.ShouldContain("\nBanner /etc/issue.net\nciphers aes256-gcm@openssh.com\nKexAlgorithms ");
        config.ShouldNotContain("MACs", customMessage: "an empty list leaves OpenSSH's default");
        config.ShouldNotContain("AcceptEnv", customMessage: "null removes the module's line");
        config.ShouldNotContain("Subsystem", customMessage: "an empty sftp_server means no sftp");
        config.ShouldEndWith("""
            MaxStartups 10:30:60

            Match User backup
                ForceCommand internal-sftp
                PasswordAuthentication no
                PermitListen localhost:8080
                PermitListen localhost:8081

            """);
    }

    [Fact]
    public void SshdModule_UnknownMatchKey_AndWrongParamType_AreErrors()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", """
            include:
              - sshd: { match: [{ criterion: User x, settings: {} }] }
            """);
        var validate = ConvergeProcess.Run("validate", dir.Path, "--state-dir", state.Path);
        validate.ExitCode.ShouldBe(1);
        (validate.Stdout + validate.Stderr).ShouldContain("'vars.sshd_match_fields' has no member 'criterion'; did you mean 'criteria'?");

        dir.Write("site.yaml", """
            include:
              - sshd: { port: twenty-two }
            """);
        validate = ConvergeProcess.Run("validate", dir.Path, "--state-dir", state.Path);
        validate.ExitCode.ShouldBe(1);
        (validate.Stdout + validate.Stderr).ShouldContain("CVG2022");
        (validate.Stdout + validate.Stderr).ShouldContain("site.yaml:2:");
    }

    [Fact]
    public void UsersModule_UnknownAccountKey_IsAnErrorWithDidYouMean()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        dir.Write("site.yaml", """
            include:
              - users: { accounts: { bob: { shel: /bin/sh } } }
            """);
        var validate = ConvergeProcess.Run("validate", dir.Path, "--state-dir", state.Path);
        validate.ExitCode.ShouldNotBe(0);
        (validate.Stdout + validate.Stderr).ShouldContain("has no member 'shel'; did you mean 'shell'?");
    }
}
