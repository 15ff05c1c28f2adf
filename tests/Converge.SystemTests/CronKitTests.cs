using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

public sealed class CronKitHost : KitHost
{
    protected override string Hostname => "kit-cron";

    // The same package set as CronSystemTests, so both reuse one cached layer.
    protected override IReadOnlyList<string> Packages => ["runit", "sudo", "cron"];
}

/// <summary>
/// The properties of <c>cron</c> changed on jobs that exist, with real <c>crontab</c> and real files in
/// /etc/cron.d, through the convergence kit (<see cref="HostKit"/>), in one host with cron installed. Each
/// crontab case owns a user of its own, so its crontab is its alone.
/// </summary>
public class CronKitTests(CronKitHost fixture, ITestOutputHelper output) : IClassFixture<CronKitHost>
{
    private static string Crontab(string user, string content) => $"useradd {user} && printf '{content}' | crontab -u {user} -";

    private static readonly KitCase[] All =
    [
        new("environment")
        {
            Setup = Crontab("kc-env", "# mine\\n# converge: cron[kc-env]\\nMAILTO=old@example.com\\n0 1 * * * /bin/job\\n"),
            Site = """
                resources:
                  - cron: kc-env
                    user: kc-env
                    schedule: "0 1 * * *"
                    command: /bin/job
                    environment:
                      MAILTO: ops@example.com
                      PATH: /usr/local/bin:/usr/bin:/bin
                """,
            Shows = ["environment: MAILTO=old@example.com → MAILTO=ops@example.com PATH=/usr/local/bin:/usr/bin:/bin", "$ crontab -u kc-env -", "-MAILTO=old@example.com", "+MAILTO=ops@example.com", "+PATH=/usr/local/bin:/usr/bin:/bin"],
            Probe = "crontab -l -u kc-env",
            Expected = "# mine\n# converge: cron[kc-env]\nMAILTO=ops@example.com\nPATH=/usr/local/bin:/usr/bin:/bin\n0 1 * * * /bin/job\n",
            Drift = "crontab -l -u kc-env | grep -v ^PATH= | crontab -u kc-env -",
            DriftShows = ["environment: MAILTO=ops@example.com → MAILTO=ops@example.com PATH=/usr/local/bin:/usr/bin:/bin", "+PATH=/usr/local/bin:/usr/bin:/bin"],
        },
        new("fields")
        {
            Setup = Crontab("kc-fields", "# converge: cron[kc-fields]\\n0 4 * * * /bin/fields\\n5 5 * * * /bin/hand-made\\n"),
            Site = """
                resources:
                  - cron: kc-fields
                    user: kc-fields
                    minute: "15"
                    hour: "*/6"
                    weekday: mon-fri
                    command: /bin/fields
                """,
            Shows = ["$ crontab -u kc-fields -", "-0 4 * * * /bin/fields", "+15 */6 * * mon-fri /bin/fields"],
            Probe = "crontab -l -u kc-fields",
            Expected = "# converge: cron[kc-fields]\n15 */6 * * mon-fri /bin/fields\n5 5 * * * /bin/hand-made\n",
            Drift = "crontab -l -u kc-fields | sed 's|^15 \\*/6|45 */6|' | crontab -u kc-fields -",
            DriftShows = ["-45 */6 * * mon-fri /bin/fields", "+15 */6 * * mon-fri /bin/fields"],
        },
        new("monthday-month-command")
        {
            Setup = Crontab("kc-month", "# converge: cron[kc-month]\\n0 0 1 1 * /bin/old\\n"),
            Site = """
                resources:
                  - cron: kc-month
                    user: kc-month
                    minute: "0"
                    hour: "0"
                    monthday: "1,15"
                    month: jan-jun
                    command: /bin/new --flag
                """,
            Shows = ["job: 0 0 1 1 * /bin/old → 0 0 1,15 jan-jun * /bin/new --flag", "+0 0 1,15 jan-jun * /bin/new --flag"],
            Probe = "crontab -l -u kc-month",
            Expected = "# converge: cron[kc-month]\n0 0 1,15 jan-jun * /bin/new --flag\n",
            Drift = "crontab -l -u kc-month | sed 's|jan-jun|jan-dec|' | crontab -u kc-month -",
            DriftShows = ["-0 0 1,15 jan-dec * /bin/new --flag"],
        },
        new("schedule-macro")
        {
            Setup = Crontab("kc-macro", "# converge: cron[kc-macro]\\n30 3 * * * /bin/macro\\n"),
            Site = "resources:\n  - cron: kc-macro\n    user: kc-macro\n    schedule: \"@weekly\"\n    command: /bin/macro\n",
            Shows = ["-30 3 * * * /bin/macro", "+@weekly /bin/macro"],
            Probe = "crontab -l -u kc-macro",
            Expected = "# converge: cron[kc-macro]\n@weekly /bin/macro\n",
            Drift = "crontab -l -u kc-macro | sed 's|/bin/macro|/bin/other|' | crontab -u kc-macro -",
            DriftShows = ["-@weekly /bin/other", "+@weekly /bin/macro"],
        },
        new("crontab-absent")
        {
            Setup = Crontab("kc-rm", "MAILTO=root\\n# converge: cron[kc-rm]\\nMAILTO=job@example.com\\n0 2 * * * /bin/gone\\n0 3 * * * /bin/hand-made\\n"),
            Site = "resources:\n  - cron: kc-rm\n    user: kc-rm\n    ensure: absent\n",
            Shows = ["$ crontab -u kc-rm -", "-# converge: cron[kc-rm]", "-MAILTO=job@example.com", "-0 2 * * * /bin/gone"],
            Probe = "crontab -l -u kc-rm",
            Expected = "MAILTO=root\n0 3 * * * /bin/hand-made\n",
            Drift = "(crontab -l -u kc-rm; printf '# converge: cron[kc-rm]\\n0 2 * * * /bin/gone\\n') | crontab -u kc-rm -",
            DriftShows = ["-0 2 * * * /bin/gone"],
        },
        new("crond-environment")
        {
            Site = """
                resources:
                  - cron: kc-crond
                    target: crond
                    user: www-data
                    minute: "*/10"
                    command: /usr/bin/true
                    environment:
                      SHELL: /bin/bash
                """,
            Shows = ["+# converge: cron[kc-crond]", "+SHELL=/bin/bash", "+*/10 * * * * www-data /usr/bin/true"],
            Probe = "cat /etc/cron.d/kc-crond; stat -c '%a %U:%G' /etc/cron.d/kc-crond",
            Expected = "# converge: cron[kc-crond]\nSHELL=/bin/bash\n*/10 * * * * www-data /usr/bin/true\n644 root:root\n",
            Drift = "sed -i 's|^\\*/10 |*/20 |' /etc/cron.d/kc-crond && chown daemon /etc/cron.d/kc-crond",
            DriftShows = ["-*/20 * * * * www-data /usr/bin/true", "+*/10 * * * * www-data /usr/bin/true"],
        },
        new("crond-absent")
        {
            Setup = "printf '# converge: cron[kc-gone]\\n@daily root /bin/gone\\n' > /etc/cron.d/kc-gone",
            Site = "resources:\n  - cron: kc-gone\n    target: crond\n    ensure: absent\n",
            Shows = ["-@daily root /bin/gone"],
            Probe = "test -e /etc/cron.d/kc-gone && echo present || echo gone",
            Expected = "gone\n",
            Drift = "printf '# converge: cron[kc-gone]\\n@daily root /bin/gone\\n' > /etc/cron.d/kc-gone",
            DriftShows = ["-@daily root /bin/gone"],
        },
    ];

    [Fact]
    public async Task Crontab_OfUserCreatedInTheSameRun_UnknownInNoop_ThenConverges()
    {
        var host = fixture.Host;
        await host.WriteFileAsync("/root/kit/same-run/site.yaml", """
            resources:
              - user: kc-new
              - cron: kc-new-job
                user: kc-new
                schedule: "@daily"
                command: /bin/new
            """);
        string[] args = ["apply", "/root/kit/same-run", "--state-dir", "/var/lib/converge-kit/same-run", "--json"];
        var plan = await host.ConvergeAsync([.. args, "--noop"]);
        plan.ExitCode.ShouldBe(2, plan.ToString());
        // The crontab of a user that does not exist yet cannot be read: --noop says so instead of failing.
        ConvergenceKit.Statuses(plan).ShouldBe(new Dictionary<string, string> { ["user[kc-new]"] = "would-change", ["cron[kc-new-job]"] = "unknown" });
        (await host.RunAsync(["getent", "passwd", "kc-new"])).ExitCode.ShouldBe(2, "--noop created nothing");

        var apply = await host.ConvergeAsync(args);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        ConvergenceKit.Statuses(apply).Values.ShouldAllBe(s => s == "changed");
        (await host.RunAsync(["crontab", "-l", "-u", "kc-new"])).Stdout.ShouldBe("# converge: cron[kc-new-job]\n@daily /bin/new\n");
        var replan = await host.ConvergeAsync([.. args, "--noop"]);
        replan.ExitCode.ShouldBe(0, replan.ToString());
    }

    public static TheoryData<string> Cases => new(All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task CronProperty_ConvergenceKit(string name) => HostKit.RunAsync(fixture.Host, All.Single(c => c.Name == name), output);
}
