using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The cron type with real <c>crontab</c> (a package layer, inside the host only) and real files
/// in /etc/cron.d: the convergence kit through the CLI, hand-made lines preserved, drift reported.
/// </summary>
public class CronSystemTests(ITestOutputHelper output)
{
    private const string Site = "/root/site";

    private static async Task<ConvergeRun> Run(ThrowawayHost host, bool noop, bool json = true)
    {
        var args = new List<string> { "apply", Site };
        if (json) args.Add("--json");
        if (noop) args.Add("--noop");
        return await host.ConvergeAsync(args);
    }

    private static async Task<string> Crontab(ThrowawayHost host)
    {
        var list = await host.RunAsync(["crontab", "-l", "-u", "root"]);
        list.ExitCode.ShouldBe(0, list.ToString());
        return list.Stdout;
    }

    [Fact]
    public async Task Crontab_ConvergenceKit_HandMadeLinesKept_DriftReported()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "cron-1", Packages = ["runit", "sudo", "cron"] });
        (await host.ShAsync("crontab -u root -", stdin: "# mine\n5 * * * * /bin/hand-made\n")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync(Site + "/site.yaml", """
            resources:
              - cron: backup
                user: root
                schedule: "30 2 * * *"
                command: /usr/local/bin/backup --quiet
                environment:
                  MAILTO: ops@example.com
              - cron: cleanup
                hour: "4"
                minute: "0"
                weekday: "7"
                command: find /tmp -mtime +7 -delete
            """);

        // 1. --noop shows the diff of the crontab and the exact argv, and runs nothing.
        var text = await Run(host, noop: true, json: false);
        output.WriteLine(text.Stdout);
        text.Stdout.ShouldContain("crontab -u root -");
        text.Stdout.ShouldContain("+# converge: cron[backup]");
        (await Crontab(host)).ShouldBe("# mine\n5 * * * * /bin/hand-made\n", "--noop changes nothing");
        var plan = await Run(host, noop: true);
        plan.ExitCode.ShouldBe(2, plan.ToString());
        var predicted = ConvergenceKit.Changes(plan);
        // Jobs of one crontab are chained (ExclusiveKey): the second reads what the first writes, so
        // --noop reports it as unknown rather than with a diff apply would not produce.
        ConvergenceKit.Statuses(plan).ShouldBe(new Dictionary<string, string> { ["cron[backup]"] = "would-change", ["cron[cleanup]"] = "unknown" });

        // 2. apply does exactly that; the hand-made lines stay first.
        var apply = await Run(host, noop: false);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        var applied = ConvergenceKit.Changes(apply);
        applied.Keys.ShouldBe(["cron[backup]", "cron[cleanup]"]);
        applied["cron[backup]"].ShouldBe(predicted["cron[backup]"]);
        (await Crontab(host)).ShouldBe("""
            # mine
            5 * * * * /bin/hand-made
            # converge: cron[backup]
            MAILTO=ops@example.com
            30 2 * * * /usr/local/bin/backup --quiet
            # converge: cron[cleanup]
            0 4 * * 7 find /tmp -mtime +7 -delete

            """);

        // 3./4. a new plan is empty and a second apply changes nothing.
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);
        var again = await Run(host, noop: false);
        again.ExitCode.ShouldBe(0, again.ToString());
        ConvergenceKit.Changes(again).ShouldBeEmpty();

        // A line added by hand is not Converge's: nothing to report.
        (await host.ShAsync("(crontab -l; echo '0 1 * * * /bin/added-later') | crontab -")).ExitCode.ShouldBe(0);
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);

        // 6. drift of the managed line is reported with its diff, and apply repairs only that line.
        (await host.ShAsync("crontab -l | sed 's|^30 2 |45 3 |' | crontab -")).ExitCode.ShouldBe(0);
        var drift = await Run(host, noop: true);
        drift.ExitCode.ShouldBe(2, drift.ToString());
        var drifted = ConvergenceKit.Changes(drift);
        ConvergenceKit.Statuses(drift)["cron[backup]"].ShouldBe("would-change");
        drifted["cron[backup]"].ShouldContain("-45 3 * * * /usr/local/bin/backup --quiet");
        (await Run(host, noop: false)).ExitCode.ShouldBe(2);
        var repaired = await Crontab(host);
        repaired.ShouldContain("\n30 2 * * * /usr/local/bin/backup --quiet\n");
        repaired.ShouldContain("/bin/hand-made");
        repaired.ShouldContain("0 1 * * * /bin/added-later");

        // ensure: absent removes the block with its environment line, nothing else.
        await host.WriteFileAsync(Site + "/site.yaml", """
            resources:
              - cron: backup
                ensure: absent
            """);
        (await Run(host, noop: false)).ExitCode.ShouldBe(2);
        (await Crontab(host)).ShouldBe("""
            # mine
            5 * * * * /bin/hand-made
            # converge: cron[cleanup]
            0 4 * * 7 find /tmp -mtime +7 -delete
            0 1 * * * /bin/added-later

            """);
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Crond_File0644WithUserField_KitAndDrift()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "cron-2" });
        await host.WriteFileAsync(Site + "/site.yaml", """
            resources:
              - directory: /etc/cron.d
              - cron: logrotate-extra
                target: crond
                user: www-data
                schedule: "@hourly"
                command: /usr/sbin/logrotate /etc/logrotate-extra.conf
            """);

        var text = await Run(host, noop: true, json: false);
        output.WriteLine(text.Stdout);
        var plan = await Run(host, noop: true);
        plan.ExitCode.ShouldBe(2, plan.ToString());
        var apply = await Run(host, noop: false);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        ConvergenceKit.Changes(apply).ShouldBe(ConvergenceKit.Changes(plan));
        (await host.RunAsync(["stat", "-c", "%a %U:%G", "/etc/cron.d/logrotate-extra"])).Stdout.ShouldBe("644 root:root\n");
        (await host.RunAsync(["cat", "/etc/cron.d/logrotate-extra"])).Stdout
            .ShouldBe("# converge: cron[logrotate-extra]\n@hourly www-data /usr/sbin/logrotate /etc/logrotate-extra.conf\n");
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);
        (await Run(host, noop: false)).ExitCode.ShouldBe(0);

        (await host.RunAsync(["chmod", "664", "/etc/cron.d/logrotate-extra"])).ExitCode.ShouldBe(0);
        var drift = await Run(host, noop: true);
        drift.ExitCode.ShouldBe(2, drift.ToString());
        ConvergenceKit.Changes(drift)["cron[logrotate-extra]"].ShouldContain("0664");
        (await Run(host, noop: false)).ExitCode.ShouldBe(2);
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);
    }
}
