using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The shipped <c>sshd</c> module converged in a throwaway host with its own network namespace (sshd must
/// never bind the machine's ports): real openssh-server from the deb cache, Debian's sysv script
/// <c>/etc/init.d/ssh</c> (no runit, pid 1 is not systemd), a real <c>sshd -t</c> as the file's validate
/// command. Proves: two runs, the second with no change; sshd running with the new config (<c>sshd -T</c>)
/// and answering on its port (<c>ssh-keyscan</c> gets the host's own key); a re-run keeps the pid, a
/// param change restarts sshd (new pid); a bad setting fails validation, leaves the live file
/// byte-identical and sshd running.
/// </summary>
public class SshdModuleSystemTests(ITestOutputHelper output)
{
    private const string Site = "/root/site";
    private const string Config = "/etc/ssh/sshd_config";
    private const int Port = 2222;

    private static string Manifest(int aliveInterval, string extraSettings = "") => $$"""
        nodes:
          - match: "*"
            include:
              - sshd:
                  port: {{Port}}
                  listen_addresses: [127.0.0.1]
                  allow_groups: [ops]
                  allow_users: [deploy, root]
                  permit_root_login: prohibit-password
                  client_alive_interval: {{aliveInterval}}
                  settings:
                    MaxStartups: "10:30:60"
                    AcceptEnv: null{{extraSettings}}
                  match:
                    - criteria: User deploy
                      settings: { AllowTcpForwarding: true }
        """;

    [Fact]
    public async Task SshdModule_ConvergesTwice_RestartsOnlyOnChange_BadSettingNeverReplacesLiveConfig()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "sshd-1", PrivateNetwork = true, Packages = ["openssh-server"] });
        (await Pid(host)).ShouldBeNull("policy-rc.d kept the package from starting sshd");
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(120));
        // Why the module manages /run/sshd: sshd -t needs it, and only the service's start creates it.
        (await host.RunAsync(["/usr/sbin/sshd", "-t"])).Stderr.ShouldContain("Missing privilege separation directory: /run/sshd");

        var noop = await host.ApplyAsync(Site, noop: true, expectedExit: 2, json: false);
        output.WriteLine(noop.Stdout);
        noop.Stdout.ShouldContain("+Port 2222");
        noop.Stdout.ShouldContain("$ /etc/init.d/ssh start");
        (await Pid(host)).ShouldBeNull("--noop starts nothing");

        var first = await host.ApplyAsync(Site, noop: false, expectedExit: 2);
        var changed = ConvergenceKit.Changes(first).Keys.ToList();
        changed.ShouldContain("file[/etc/ssh/sshd_config]");
        changed.ShouldContain("service[ssh]");
        var pid = (await Pid(host)).ShouldNotBeNull("sshd runs after the first apply");

        var second = await host.ApplyAsync(Site, noop: false, expectedExit: 0);
        ConvergenceKit.Changes(second).ShouldBeEmpty();
        (await Pid(host)).ShouldBe(pid, "no change, no restart");

        (await host.ShAsync($"stat -c '%a %U:%G' {Config}")).Stdout.ShouldBe("600 root:root\n");
        var effective = await Effective(host);
        foreach (var line in new[]
                 {
                     "port 2222", "listenaddress 127.0.0.1:2222", "permitrootlogin without-password", "passwordauthentication no",
                     "kbdinteractiveauthentication no", "x11forwarding no", "allowtcpforwarding no", "allowagentforwarding no",
                     "clientaliveinterval 120", "clientalivecountmax 2", "maxauthtries 3", "allowusers deploy", "allowusers root",
                     "allowgroups ops", "maxstartups 10:30:60", "loglevel VERBOSE",
                     "ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr",
                     "macs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com",
                     "kexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256",
                     "subsystem sftp internal-sftp",
                 })
            effective.ShouldContain(line, customMessage: effective);
        effective.ShouldNotContain("acceptenv", customMessage: "a null setting removes the module's AcceptEnv");
        (await host.RunAsync(["/usr/sbin/sshd", "-T", "-C", "user=deploy,host=h,addr=127.0.0.1"])).Stdout
            .ShouldContain("allowtcpforwarding yes", customMessage: "the Match block applies to deploy");

        await AnswersOnItsPort(host);

        // A param change: the file changes, its notify restarts sshd (a new pid) with the new value.
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(60));
        var pending = await host.ApplyAsync(Site, noop: true, expectedExit: 2, json: false);
        output.WriteLine(pending.Stdout);
        pending.Stdout.ShouldContain("-ClientAliveInterval 120\n      +ClientAliveInterval 60");
        pending.Stdout.ShouldContain("would refresh (notified by file[/etc/ssh/sshd_config])\n      $ /etc/init.d/ssh restart");
        (await Pid(host)).ShouldBe(pid, "--noop restarts nothing");
        var changedRun = await host.ApplyAsync(Site, noop: false, expectedExit: 2);
        ConvergenceKit.Changes(changedRun).Keys.ShouldBe(["file[/etc/ssh/sshd_config]", "service[ssh]"]);
        ConvergenceKit.Changes(changedRun)["service[ssh]"].ShouldEndWith("+refresh");
        var restarted = (await Pid(host)).ShouldNotBeNull("sshd runs after the restart");
        restarted.ShouldNotBe(pid, "a changed config restarts sshd");
        (await Effective(host)).ShouldContain("clientaliveinterval 60");
        await AnswersOnItsPort(host);

        // An invalid value through the settings map: sshd -t rejects the temp copy; the live file, the
        // running sshd and its pid stay as they were, and no temp file is left in /etc/ssh.
        var live = await File.ReadAllBytesAsync(host.Path(Config));
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(60, "\n            MaxAuthTries: lots"));
        var bad = await host.ApplyAsync(Site, noop: false, expectedExit: 4, json: false);
        output.WriteLine(bad.ToString());
        bad.Stdout.ShouldContain("file[/etc/ssh/sshd_config]");
        bad.Stdout.ShouldContain("validate command exited 255");
        bad.Stdout.ShouldContain("the file was not changed");
        (await File.ReadAllBytesAsync(host.Path(Config))).ShouldBe(live);
        (await host.ShAsync("ls -A /etc/ssh | grep -c converge-validate")).Stdout.ShouldBe("0\n", "no temp copy left behind");
        (await Pid(host)).ShouldBe(restarted, "sshd keeps running, not restarted");
        await AnswersOnItsPort(host);
    }

    /// <summary>sshd's pid from its pid file when that process is alive and is sshd, else null.</summary>
    private static async Task<int?> Pid(ThrowawayHost host)
    {
        var read = await host.ShAsync("[ -f /run/sshd.pid ] && pid=$(cat /run/sshd.pid) && [ \"$(readlink /proc/$pid/exe)\" = /usr/sbin/sshd ] && echo \"$pid\"");
        return read.ExitCode == 0 && int.TryParse(read.Stdout.Trim(), out var pid) ? pid : null;
    }

    /// <summary>The configuration the installed sshd reads from the live file (<c>sshd -T</c>, lower-case keywords).</summary>
    private static async Task<string> Effective(ThrowawayHost host)
    {
        var t = await host.RunAsync(["/usr/sbin/sshd", "-T"]);
        t.ExitCode.ShouldBe(0, t.ToString());
        return t.Stdout;
    }

    /// <summary>
    /// sshd answers inside the host: ssh-keyscan gets the host's own ed25519 key over a real key exchange
    /// on 127.0.0.1:PORT. The same address and port on the machine's loopback is not sshd's (own netns).
    /// </summary>
    private async Task AnswersOnItsPort(ThrowawayHost host)
    {
        var scan = await host.RunAsync(["ssh-keyscan", "-T", "5", "-t", "ed25519", "-p", Port.ToString(), "127.0.0.1"], timeout: TimeSpan.FromSeconds(20));
        output.WriteLine(scan.ToString());
        var hostKey = File.ReadAllText(host.Path("/etc/ssh/ssh_host_ed25519_key.pub")).Split(' ')[..2];
        scan.Stdout.ShouldBe($"[127.0.0.1]:{Port} {hostKey[0]} {hostKey[1]}\n", scan.ToString());
        var listening = await host.ShAsync("ss -Hltn | awk '{print $4}'");
        listening.Stdout.ShouldBe($"127.0.0.1:{Port}\n", "sshd listens only on its ListenAddress, in the host's namespace");
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", Port);
            var banner = new byte[4];
            var n = await client.GetStream().ReadAsync(banner).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            System.Text.Encoding.ASCII.GetString(banner, 0, n).ShouldNotBe("SSH-", "the machine's 127.0.0.1:2222 must not reach the host's sshd");
        }
        catch (System.Net.Sockets.SocketException) { } // refused: nothing on the machine's port, as expected
        catch (TimeoutException) { } // something else listens there and says nothing: not the host's sshd
    }
}
