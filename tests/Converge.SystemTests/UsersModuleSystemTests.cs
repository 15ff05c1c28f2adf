using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The shipped <c>users</c> module converged in a throwaway host with real shadow-utils and a real
/// <c>visudo</c> (sudo installed in the host from the deb cache): twice (the second run changes nothing),
/// then with a broken sudoers rule, which must fail validation and leave the live file alone.
/// </summary>
public class UsersModuleSystemTests(ITestOutputHelper output)
{
    private const string Site = "/root/site";
    private const string Blob = "AAAAC3NzaC1lZDI1NTE5AAAAICtIywl7umHz0JSzGYhip00SZwQHQTjXLTKmawbnA6J2";
    private const string Hash = "$6$convergetest$YqEfUH7aV0n4QnU8x8o6bqk8gQ6m4Y3e9pX5oZkQZ0yq2Ww7wJ1sGq3k0fS1oV4mQ2pZ6e7rT9uY0iL3kJ5hN.";

    private static string Manifest(string deploySudo) => $$"""
        nodes:
          - match: "*"
            include:
              - users:
                  groups:
                    deploy: { gid: 2000 }
                    ops: { system: true }
                  accounts:
                    deploy:
                      uid: 2001
                      groups: [ops]
                      shell: /bin/bash
                      comment: Deploy user
                      password: "{{Hash}}"
                      keys:
                        - ssh-ed25519 {{Blob}} deploy@laptop
                        - ssh-ed25519 {{Blob}} deploy@laptop
                      sudo: "{{deploySudo}}"
                    alice:
                      groups: [ops]
                      keys: [ssh-ed25519 {{Blob}} alice@desk]
                      sudo: true
                    bob: {}
                  absent: [mallory]
                  sudo_nopasswd: true
        """;

    private const string GoodRule = "deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app";

    [Fact]
    public async Task UsersModule_ConvergesTwice_SecondRunNoChanges_BadSudoRuleNeverReplacesLiveFile()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "users-1", Packages = ["runit", "sudo", "cron"] });
        // The module as shipped: the build copies modules/ beside the converge binary mounted in the host.
        // A user to remove, with a sudoers file of its own.
        (await host.ShAsync("useradd --create-home mallory && echo 'mallory ALL=(ALL) ALL' > /etc/sudoers.d/mallory && chmod 440 /etc/sudoers.d/mallory")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync(Site + "/site.yaml", Manifest(GoodRule));

        var runs = new List<ConvergeRun>();
        async Task<ConvergeRun> Run(params string[] extra)
        {
            var run = await host.ConvergeAsync(["apply", Site, .. extra]);
            runs.Add(run);
            return run;
        }

        var noop = await Run("--noop");
        output.WriteLine(noop.Stdout);
        noop.ExitCode.ShouldBe(2, noop.ToString());
        noop.Stdout.ShouldContain("useradd --uid 2001 --gid deploy --groups ops --create-home --shell /bin/bash --comment 'Deploy user' deploy");
        noop.Stdout.ShouldContain("useradd --create-home bob");
        noop.Stdout.ShouldContain("userdel mallory");
        (await host.ShAsync("getent passwd deploy")).ExitCode.ShouldBe(2, "--noop runs nothing");

        var first = await Run();
        output.WriteLine(first.Stdout);
        first.ExitCode.ShouldBe(2, first.ToString());
        (await host.ShAsync("getent passwd deploy alice bob | cut -d: -f1,3,4,5,6,7")).Stdout
            .ShouldMatch("^deploy:2001:2000:Deploy user:/home/deploy:/bin/bash\nalice:[0-9]+:[0-9]+::/home/alice:/bin/sh\nbob:[0-9]+:[0-9]+::/home/bob:/bin/sh\n$");
        (await host.ShAsync("id -nG deploy; id -nG alice")).Stdout.ShouldBe("deploy ops\nalice ops\n");
        (await host.ShAsync("grep ^deploy: /etc/shadow | cut -d: -f2")).Stdout.ShouldBe(Hash + "\n");
        (await host.ShAsync("getent passwd mallory")).ExitCode.ShouldBe(2, "absent logins are removed");
        (await host.ShAsync("test -e /etc/sudoers.d/mallory")).ExitCode.ShouldBe(1, "with their sudoers file");
        (await host.RunAsync(["cat", "/home/deploy/.ssh/authorized_keys"])).Stdout.ShouldBe($"ssh-ed25519 {Blob} deploy@laptop\n",
            "the same key twice is one line");
        (await host.ShAsync("stat -c '%a %U:%G' /home/alice/.ssh /home/alice/.ssh/authorized_keys")).Stdout.ShouldBe("700 alice:alice\n600 alice:alice\n");
        (await host.ShAsync("stat -c '%a %U:%G' /etc/sudoers.d/deploy /etc/sudoers.d/alice")).Stdout.ShouldBe("440 root:root\n440 root:root\n");
        (await host.RunAsync(["cat", "/etc/sudoers.d/alice"])).Stdout.ShouldEndWith("\nalice ALL=(ALL:ALL) NOPASSWD: ALL\n");
        (await host.ShAsync("test -e /etc/sudoers.d/bob")).ExitCode.ShouldBe(1, "no sudo, no file");
        var visudo = await host.ShAsync("visudo -c");
        visudo.ExitCode.ShouldBe(0, visudo.ToString());
        var rights = await host.ShAsync("sudo -l -U deploy");
        rights.Stdout.ShouldContain("(root) NOPASSWD: /usr/bin/systemctl restart app", customMessage: rights.ToString());

        var second = await Run("--json");
        second.ExitCode.ShouldBe(0, second.ToString());
        ConvergenceKit.Changes(second).ShouldBeEmpty();

        // A rule with a syntax error: visudo rejects the temp copy, the live file stays as it was.
        var live = (await host.RunAsync(["cat", "/etc/sudoers.d/deploy"])).Stdout;
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("deploy ALL=(root NOPASSWD /usr/bin/true"));
        var bad = await Run();
        output.WriteLine(bad.ToString());
        bad.ExitCode.ShouldNotBe(0);
        bad.ExitCode.ShouldNotBe(2);
        (bad.Stdout + bad.Stderr).ShouldContain("validate command exited");
        (bad.Stdout + bad.Stderr).ShouldContain("file[/etc/sudoers.d/deploy]");
        (await host.RunAsync(["cat", "/etc/sudoers.d/deploy"])).Stdout.ShouldBe(live);
        (await host.ShAsync("ls -A /etc/sudoers.d | grep -c converge-validate")).Stdout.ShouldBe("0\n", "no temp copy left behind");
        (await host.ShAsync("visudo -c")).ExitCode.ShouldBe(0, "sudo still works");

        foreach (var run in runs)
        {
            run.Stdout.ShouldNotContain(Hash);
            run.Stderr.ShouldNotContain(Hash);
        }
    }
}
