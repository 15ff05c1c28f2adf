using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// The convergence kit for every resource type of this release, through the real executable and real
/// files in a temp directory: plan, apply as predicted, empty re-plan, idempotent re-apply, drift.
/// </summary>
public class ConvergenceTests
{
    [Fact]
    public void File_ContentModeAndRemoval_Converge()
    {
        using var kit = new ConvergenceKit("""
            resources:
              - directory: "@ROOT@/etc"
                mode: "0755"
              - file: "@ROOT@/etc/app.conf"
                content: "port = 8080\nworkers = 4\n"
                mode: "0640"
              - file: "@ROOT@/etc/empty"
                mode: "0600"
              - file: "@ROOT@/etc/old.conf"
                ensure: absent
            """);
        File.WriteAllText(Path.Combine(kit.Root, "old.seed"), "x");
        Directory.CreateDirectory(Path.Combine(kit.Root, "etc"));
        File.WriteAllText(Path.Combine(kit.Root, "etc/old.conf"), "obsolete\n");
        kit.Verify(root =>
        {
            File.WriteAllText(Path.Combine(root, "etc/app.conf"), "port = 9090\nworkers = 4\n");
            File.SetUnixFileMode(Path.Combine(root, "etc/empty"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            return ["file[" + root + "/etc/app.conf]", "file[" + root + "/etc/empty]"];
        });
        File.ReadAllText(Path.Combine(kit.Root, "etc/app.conf")).ShouldBe("port = 8080\nworkers = 4\n");
        File.GetUnixFileMode(Path.Combine(kit.Root, "etc/app.conf")).ShouldBe((UnixFileMode)Convert.ToInt32("640", 8));
        File.Exists(Path.Combine(kit.Root, "etc/old.conf")).ShouldBeFalse();
    }

    [Fact]
    public void File_TemplateAndSource_Converge()
    {
        using var kit = new ConvergenceKit("""
            vars:
              greeting: hello
            resources:
              - file: "@ROOT@/greeting"
                template: greeting.sbn
              - file: "@ROOT@/static"
                source: static.txt
                mode: "0644"
            """);
        kit.WriteManifestFile("templates/greeting.sbn", "{{ vars.greeting }} from {{ facts.os.id }}\n");
        kit.WriteManifestFile("files/static.txt", "static content\n");
        kit.Verify(root =>
        {
            File.Delete(Path.Combine(root, "static"));
            return ["file[" + root + "/static]"];
        });
        File.ReadAllText(Path.Combine(kit.Root, "greeting")).ShouldBe("hello from debian\n");
    }

    [Fact]
    public void Directory_CreatePurgeAndRemove_Converge()
    {
        using var kit = new ConvergenceKit("""
            resources:
              - directory: "@ROOT@/conf.d"
                mode: "0750"
                purge: true
              - file: "@ROOT@/conf.d/managed.conf"
                content: "x\n"
              - directory: "@ROOT@/gone"
                ensure: absent
                force: true
            """);
        Directory.CreateDirectory(Path.Combine(kit.Root, "conf.d"));
        File.WriteAllText(Path.Combine(kit.Root, "conf.d/stray.conf"), "stray\n");
        Directory.CreateDirectory(Path.Combine(kit.Root, "gone/sub"));
        File.WriteAllText(Path.Combine(kit.Root, "gone/sub/file"), "x");
        kit.Verify(root =>
        {
            File.WriteAllText(Path.Combine(root, "conf.d/another-stray.conf"), "stray\n");
            return ["directory[" + root + "/conf.d]"];
        });
        Directory.GetFiles(Path.Combine(kit.Root, "conf.d")).Select(Path.GetFileName).ShouldBe(["managed.conf"]);
        Directory.Exists(Path.Combine(kit.Root, "gone")).ShouldBeFalse();
    }

    [Fact]
    public void Link_TargetAndForce_Converge()
    {
        using var kit = new ConvergenceKit("""
            resources:
              - directory: "@ROOT@/releases"
              - directory: "@ROOT@/releases/v2"
              - link: "@ROOT@/current"
                target: "@ROOT@/releases/v2"
              - link: "@ROOT@/in-the-way"
                target: "@ROOT@/releases"
                force: true
            """);
        File.WriteAllText(Path.Combine(kit.Root, "in-the-way"), "a plain file\n");
        kit.Verify(root =>
        {
            File.Delete(Path.Combine(root, "current"));
            File.CreateSymbolicLink(Path.Combine(root, "current"), Path.Combine(root, "releases"));
            return ["link[" + root + "/current]"];
        });
        new FileInfo(Path.Combine(kit.Root, "current")).LinkTarget.ShouldBe(Path.Combine(kit.Root, "releases/v2"));
    }

    [Fact]
    public void Exec_CreatesUnlessAndRefreshOnly_Converge()
    {
        using var kit = new ConvergenceKit("""
            resources:
              - exec: make-marker
                command: ["/bin/sh", "-c", "echo made > @ROOT@/marker"]
                creates: "@ROOT@/marker"
              - exec: append-once
                command: "echo line >> @ROOT@/log"
                unless: "grep -q line @ROOT@/log"
              - file: "@ROOT@/config"
                content: "v1\n"
                notify: exec[on-config-change]
              - exec: on-config-change
                command: "echo refreshed >> @ROOT@/refreshes"
                refreshonly: true
            """);
        kit.Verify(root =>
        {
            File.Delete(Path.Combine(root, "marker"));
            return ["exec[make-marker]"];
        });
        File.ReadAllText(Path.Combine(kit.Root, "log")).ShouldBe("line\n");
        // Refreshed once by the first apply; the drift round touched only the marker.
        File.ReadAllText(Path.Combine(kit.Root, "refreshes")).ShouldBe("refreshed\n");
    }

    [Fact]
    public void Line_SshdConfigMatchAndAbsent_Converge()
    {
        // Two files, not one: a second edit of a file that an earlier resource edits in the same run is
        // "unknown" in --noop (its diff depends on the first), and the kit wants exact predictions.
        using var kit = new ConvergenceKit("""
            resources:
              - line: no-root-login
                path: "@ROOT@/sshd_config"
                text: PermitRootLogin no
                match: "^#?PermitRootLogin"
              - line: no-legacy-banner
                path: "@ROOT@/ssh_config"
                ensure: absent
                text: "Banner /etc/issue.net"
            """);
        var sshd = Path.Combine(kit.Root, "sshd_config");
        var ssh = Path.Combine(kit.Root, "ssh_config");
        File.WriteAllText(sshd, "Port 22\n#PermitRootLogin prohibit-password\nUsePAM yes\n");
        File.SetUnixFileMode(sshd, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(ssh, "Host *\nBanner /etc/issue.net\n    SendEnv LANG\n");
        kit.Verify(root =>
        {
            var path = Path.Combine(root, "sshd_config");
            File.WriteAllText(path, File.ReadAllText(path).Replace("PermitRootLogin no", "PermitRootLogin yes"));
            return ["line[no-root-login]"];
        });
        File.ReadAllText(sshd).ShouldBe("Port 22\nPermitRootLogin no\nUsePAM yes\n");
        File.GetUnixFileMode(sshd).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllText(ssh).ShouldBe("Host *\n    SendEnv LANG\n");
    }

    [Fact]
    public void Line_SeveralEditsOfOneFile_ApplyInOneRunWithoutRequire()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var config = dir.Write("sshd_config", "Port 22\n#PermitRootLogin yes\nPasswordAuthentication yes\n");
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - line: no-root-login
                path: {config}
                text: PermitRootLogin no
                match: "^#?PermitRootLogin"
              - line: no-passwords
                path: {config}
                text: PasswordAuthentication no
                match: "^#?PasswordAuthentication"
              - line: banner
                path: {config}
                text: Banner /etc/issue.net
            """);
        var plan = ConvergeProcess.Run("apply", manifest, "--state-dir", state.Path, "--noop");
        plan.ExitCode.ShouldBe(2, plan.ToString());
        // The first edit is predicted exactly; the ones after it depend on it and say so.
        plan.Stdout.ShouldContain("? line[no-passwords]: depends on pending change to line[");

        var apply = ConvergeProcess.Run("apply", manifest, "--state-dir", state.Path);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        File.ReadAllText(config).ShouldBe("Port 22\nPermitRootLogin no\nPasswordAuthentication no\nBanner /etc/issue.net\n");
        ConvergeProcess.Run("apply", manifest, "--state-dir", state.Path, "--noop").ExitCode.ShouldBe(0);
    }
}
