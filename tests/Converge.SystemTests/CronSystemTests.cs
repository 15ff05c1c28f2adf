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

    /// <summary>
    /// Counts every <c>crontab</c> that converge runs, through a wrapper that logs its arguments and sits
    /// earlier in converge's PATH: a run reads each user's crontab once (not once per job), and jobs of one
    /// crontab that change in one run still each see what the one before wrote, so every change lands.
    /// </summary>
    [Fact]
    public async Task Crontabs_ReadOncePerUser_ChainedChangesAllLand()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "cron-3" });
        await DebCache.InstallAsync(host, "runit", "sudo", "cron");
        await host.WriteFileAsync("/root/bin/crontab", "#!/bin/sh\necho \"$*\" >> /root/crontab.log\nexec /usr/bin/crontab \"$@\"\n");
        (await host.ShAsync("chmod 755 /root/bin/crontab && useradd ca && useradd cb && printf '5 5 * * * /bin/hand-made\\n' | /usr/bin/crontab -u ca -")).ExitCode.ShouldBe(0);
        var path = new Dictionary<string, string?> { ["PATH"] = "/root/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };

        // ca: a crontab with a hand-made line and three jobs; cb: two jobs in no crontab yet; cc: a user
        // this run creates (so its crontab cannot be read before the run starts); root: one job.
        string Manifest(string a1, string a3) => $$"""
            resources:
              - user: cc
              - cron: a1
                user: ca
                schedule: "1 * * * *"
                command: {{a1}}
              - cron: a2
                user: ca
                schedule: "2 * * * *"
                command: /bin/a2
              - cron: a3
                user: ca
                schedule: "3 * * * *"
                command: {{a3}}
              - cron: b1
                user: cb
                schedule: "@daily"
                command: /bin/b1
              - cron: b2
                user: cb
                schedule: "@weekly"
                command: /bin/b2
              - cron: c1
                user: cc
                schedule: "@hourly"
                command: /bin/c1
              - cron: r1
                schedule: "0 4 * * *"
                command: /bin/r1
            """;
        async Task<ConvergeRun> Apply(bool noop, int exit)
        {
            (await host.ShAsync("rm -f /root/crontab.log")).ExitCode.ShouldBe(0);
            var args = new List<string> { "apply", Site + "/site.yaml", "--json" };
            if (noop) args.Add("--noop");
            var run = await host.ConvergeAsync(args, path);
            run.ExitCode.ShouldBe(exit, run.ToString());
            return run;
        }
        async Task<List<string>> Log() =>
            [.. (await host.ShAsync("cat /root/crontab.log 2>/dev/null")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
        async Task<string> CrontabOf(string user) => (await host.RunAsync(["/usr/bin/crontab", "-l", "-u", user])).Stdout;

        // 1. Everything is new: all seven jobs land, each job of ca and cb after the one before it.
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("/bin/a1", "/bin/a3"));
        var first = await Apply(noop: false, exit: 2);
        ConvergenceKit.Statuses(first).Where(s => s.Key.StartsWith("cron[", StringComparison.Ordinal)).ShouldAllBe(s => s.Value == "changed");
        (await CrontabOf("ca")).ShouldBe("5 5 * * * /bin/hand-made\n# converge: cron[a1]\n1 * * * * /bin/a1\n# converge: cron[a2]\n2 * * * * /bin/a2\n# converge: cron[a3]\n3 * * * * /bin/a3\n");
        (await CrontabOf("cb")).ShouldBe("# converge: cron[b1]\n@daily /bin/b1\n# converge: cron[b2]\n@weekly /bin/b2\n");
        (await CrontabOf("cc")).ShouldBe("# converge: cron[c1]\n@hourly /bin/c1\n");
        (await CrontabOf("root")).ShouldBe("# converge: cron[r1]\n0 4 * * * /bin/r1\n");

        // 2. Converged: one read per crontab for seven jobs, in a real run and in --noop; nothing installed.
        string[] once = ["-l -u ca", "-l -u cb", "-l -u cc", "-l -u root"];
        await Apply(noop: false, exit: 0);
        (await Log()).ShouldBe(once);
        await Apply(noop: true, exit: 0);
        (await Log()).ShouldBe(once);

        // 3. a1 and a3 change in one run, a2 between them does not: a3 must read the crontab a1 wrote
        // (a stale batched read would be refused as "changed since read", or lose a1's line).
        await host.WriteFileAsync(Site + "/site.yaml", Manifest("/bin/a1 --new", "/bin/a3 --new"));
        var changed = await Apply(noop: false, exit: 2);
        ConvergenceKit.Changes(changed).Keys.ShouldBe(["cron[a1]", "cron[a3]"]);
        (await CrontabOf("ca")).ShouldBe("5 5 * * * /bin/hand-made\n# converge: cron[a1]\n1 * * * * /bin/a1 --new\n# converge: cron[a2]\n2 * * * * /bin/a2\n# converge: cron[a3]\n3 * * * * /bin/a3 --new\n");
        var log = await Log();
        // The untouched crontabs are still read once. ca: the batch, a1's check before installing, a2 and
        // a3 again after a1 changed it (they are downstream of a change), a3's check before installing.
        log.Where(l => l != "-l -u ca" && l != "-u ca -").ShouldBe(["-l -u cb", "-l -u cc", "-l -u root"]);
        log.Count(l => l == "-u ca -").ShouldBe(2);
        log.Count(l => l == "-l -u ca").ShouldBe(5);
        await Apply(noop: false, exit: 0);
        (await Log()).ShouldBe(once);
    }
}
