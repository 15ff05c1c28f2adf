using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>The user and group types with real shadow-utils inside throwaway hosts: the convergence kit, drift, removal, redaction.</summary>
public class AccountTests(ITestOutputHelper output)
{
    // A real SHA-512 crypt hash (of "converge"); it must never appear in any output.
    private const string Hash = "$6$convergetest$YqEfUH7aV0n4QnU8x8o6bqk8gQ6m4Y3e9pX5oZkQZ0yq2Ww7wJ1sGq3k0fS1oV4mQ2pZ6e7rT9uY0iL3kJ5hN.";

    private const string Manifest = $$"""
        resources:
          - group: deploy
            gid: 2000
          - group: ops
            system: true
          - group: audit
            members: [www-data]
            membership: exact
          - user: deploy
            uid: 2001
            gid: deploy
            groups: [ops]
            home: /home/deploy
            managehome: true
            shell: /bin/bash
            comment: Deploy user
            password: "{{Hash}}"
            expiry: 2030-01-31
        """;

    [Fact]
    public async Task UsersAndGroups_ConvergenceKit_DriftReported_PasswordNeverShown()
    {
        await using var host = ThrowawayHost.Start();
        await host.WriteFileAsync("/root/site/site.yaml", Manifest);
        var runs = new List<ConvergeRun>();
        async Task<ConvergeRun> Run(params string[] extra)
        {
            var run = await host.ConvergeAsync(["apply", "/root/site", .. extra]);
            runs.Add(run);
            return run;
        }

        var text = await Run("--noop");
        output.WriteLine(text.Stdout);
        text.ExitCode.ShouldBe(2, text.ToString());
        text.Stdout.ShouldContain("groupadd --gid 2000 deploy");
        text.Stdout.ShouldContain("groupadd --system ops");
        text.Stdout.ShouldContain("gpasswd --add www-data audit");
        text.Stdout.ShouldContain("useradd --uid 2001 --gid deploy --groups ops --home-dir /home/deploy --create-home --shell /bin/bash --comment 'Deploy user' --expiredate 2030-01-31 deploy");
        text.Stdout.ShouldContain("    password: (redacted)\n      $ usermod --password '(redacted)' deploy\n", Case.Sensitive, "the command shows, only the hash is hidden");
        (await host.RunAsync(["getent", "passwd", "deploy"])).ExitCode.ShouldBe(2, "--noop runs nothing");

        var plan = await Run("--noop", "--json");
        var predicted = ConvergenceKit.Changes(plan);
        predicted.Keys.ShouldBe(["group[audit]", "group[deploy]", "group[ops]", "user[deploy]"]);

        var apply = await Run("--json");
        apply.ExitCode.ShouldBe(2, apply.ToString());
        ConvergenceKit.Changes(apply).ShouldBe(predicted, "--noop predicted exactly what apply did");
        ConvergenceKit.Changes(apply)["user[deploy]"].ShouldContain("\"argv\":[\"usermod\",\"--password\",\"(redacted)\",\"deploy\"]");
        (await host.RunAsync(["getent", "passwd", "deploy"])).Stdout.ShouldBe("deploy:x:2001:2000:Deploy user:/home/deploy:/bin/bash\n");
        (await host.RunAsync(["id", "-nG", "deploy"])).Stdout.ShouldBe("deploy ops\n");
        (await host.RunAsync(["getent", "group", "audit"])).Stdout.ShouldEndWith(":www-data\n");
        (await host.ShAsync("grep ^deploy: /etc/shadow | cut -d: -f2,8")).Stdout.ShouldBe($"{Hash}:{new DateOnly(2030, 1, 31).DayNumber - new DateOnly(1970, 1, 1).DayNumber}\n");
        (await host.ShAsync("stat -c %U /home/deploy")).Stdout.ShouldBe("deploy\n");
        var opsGid = int.Parse((await host.ShAsync("getent group ops | cut -d: -f3")).Stdout);
        opsGid.ShouldBeLessThan(1000, "a system group gets a gid from the system range");

        var replan = await Run("--noop", "--json");
        replan.ExitCode.ShouldBe(0, replan.ToString());
        var again = await Run("--json");
        again.ExitCode.ShouldBe(0, again.ToString());
        ConvergenceKit.Changes(again).ShouldBeEmpty();

        // Drift behind Converge's back.
        (await host.ShAsync("usermod --shell /bin/sh deploy && gpasswd -d deploy ops && gpasswd -a daemon audit && usermod --password '!' deploy")).ExitCode.ShouldBe(0);
        var drift = await Run("--noop");
        output.WriteLine(drift.Stdout);
        drift.ExitCode.ShouldBe(2, drift.ToString());
        drift.Stdout.ShouldContain("usermod --shell /bin/bash deploy");
        drift.Stdout.ShouldContain("usermod --append --groups ops deploy");
        drift.Stdout.ShouldContain("gpasswd --delete daemon audit");
        var driftJson = ConvergenceKit.Changes(await Run("--noop", "--json"));
        driftJson.Keys.ShouldBe(["group[audit]", "user[deploy]"]);
        driftJson["user[deploy]"].ShouldContain("\"property\":\"password\"");

        var repair = await Run("--json");
        repair.ExitCode.ShouldBe(2, repair.ToString());
        (await Run("--noop")).ExitCode.ShouldBe(0);
        (await host.ShAsync("grep ^deploy: /etc/shadow | cut -d: -f2")).Stdout.ShouldBe(Hash + "\n");

        foreach (var run in runs)
        {
            run.Stdout.ShouldNotContain(Hash);
            run.Stderr.ShouldNotContain(Hash);
        }
        var reports = await host.ShAsync("cat /var/lib/converge/reports/*.json");
        reports.Stdout.ShouldContain("(redacted)");
        reports.Stdout.ShouldNotContain(Hash);
        reports.Stdout.ShouldNotContain("convergetest", customMessage: "not even the salt");
    }

    [Fact]
    public async Task Removal_WithAndWithoutHome()
    {
        await using var host = ThrowawayHost.Start();
        (await host.ShAsync("useradd --create-home gone && useradd --create-home kept && groupadd stale")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync("/root/site/site.yaml", """
            resources:
              - user: gone
                ensure: absent
                managehome: true
              - user: kept
                ensure: absent
              - group: stale
                ensure: absent
            """);

        var plan = await host.ConvergeAsync(["apply", "/root/site", "--noop"]);
        output.WriteLine(plan.Stdout);
        plan.Stdout.ShouldContain("userdel --remove gone");
        plan.Stdout.ShouldContain("userdel kept");
        plan.Stdout.ShouldContain("groupdel stale");

        var apply = await host.ConvergeAsync(["apply", "/root/site"]);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        (await host.ShAsync("getent passwd gone kept; getent group stale")).Stdout.ShouldBeEmpty();
        (await host.ShAsync("test -e /home/gone")).ExitCode.ShouldBe(1, "managehome removes the home");
        (await host.ShAsync("test -d /home/kept")).ExitCode.ShouldBe(0, "without managehome the home stays");
        (await host.ConvergeAsync(["apply", "/root/site"])).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task FailedCommand_ReportsStderrTail_OthersContinue()
    {
        await using var host = ThrowawayHost.Start();
        (await host.ShAsync("groupadd --gid 2500 taken")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync("/root/site/site.yaml", """
            resources:
              - group: clash
                gid: 2500
              - group: fine
            """);
        var apply = await host.ConvergeAsync(["apply", "/root/site"]);
        output.WriteLine(apply.ToString());
        apply.ExitCode.ShouldNotBe(0);
        (apply.Stdout + apply.Stderr).ShouldContain("groupadd --gid 2500 clash");
        (apply.Stdout + apply.Stderr).ShouldContain("GID '2500' already exists");
        (await host.RunAsync(["getent", "group", "fine"])).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task ExpiryAbsentAndExactGroups_ClearWhatHandsSet()
    {
        await using var host = ThrowawayHost.Start();
        (await host.ShAsync("useradd --expiredate 2030-01-01 --groups adm,users olga")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync("/root/site/site.yaml", """
            resources:
              - user: olga
                expiry: absent
                groups: [users]
                membership: exact
            """);
        var plan = await host.ConvergeAsync(["apply", "/root/site", "--noop"]);
        output.WriteLine(plan.Stdout);
        plan.Stdout.ShouldContain("usermod --groups users olga");
        plan.Stdout.ShouldContain("usermod --expiredate '' olga");
        (await host.ConvergeAsync(["apply", "/root/site"])).ExitCode.ShouldBe(2);
        (await host.ShAsync("grep ^olga: /etc/shadow | cut -d: -f8; id -nG olga")).Stdout.ShouldBe("\nolga users\n");
        var replan = await host.ConvergeAsync(["apply", "/root/site", "--noop"]);
        replan.ExitCode.ShouldBe(0, replan.ToString());
    }
}
