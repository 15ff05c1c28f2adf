using Converge.Testing;
using Xunit.Abstractions;

namespace Converge.SystemTests;

public sealed class AuthorizedKeyKitHost : KitHost
{
    protected override string Hostname => "kit-keys";
}

/// <summary>
/// The properties of <c>authorized_key</c> changed on keys that are already in a real user's
/// ~/.ssh/authorized_keys, through the convergence kit (<see cref="HostKit"/>); each case owns a user.
/// </summary>
public class AuthorizedKeyKitTests(AuthorizedKeyKitHost fixture, ITestOutputHelper output) : IClassFixture<AuthorizedKeyKitHost>
{
    private const string Blob = "AAAAC3NzaC1lZDI1NTE5AAAAICtIywl7umHz0JSzGYhip00SZwQHQTjXLTKmawbnA6J2";
    private const string Other = "AAAAC3NzaC1lZDI1NTE5AAAAIKzW1i6ruGUWzQMO+Wr6kGnjWHsOl1Tr8WXL+TzJvl8s";

    /// <summary>A user whose authorized_keys holds <paramref name="lines"/>, with the modes sshd wants.</summary>
    private static string UserWithKeys(string user, string lines) =>
        $"useradd --create-home {user} && mkdir -m 700 /home/{user}/.ssh && printf '{lines}' > /home/{user}/.ssh/authorized_keys"
        + $" && chmod 600 /home/{user}/.ssh/authorized_keys && chown -R {user}:{user} /home/{user}/.ssh";

    private static string Keys(string user) => $"cat /home/{user}/.ssh/authorized_keys; stat -c '%a %U' /home/{user}/.ssh/authorized_keys";

    private static string Site(string user, string properties) =>
        $"resources:\n  - authorized_key: {user}-key\n    user: {user}\n" + string.Concat(properties.Split('\n').Select(p => $"    {p}\n"));

    private static readonly KitCase[] All =
    [
        new("options-changed")
        {
            Setup = UserWithKeys("ka-opt", $"# first\\nno-pty ssh-ed25519 {Blob} ka@opt\\nssh-ed25519 {Other} other\\n"),
            Site = Site("ka-opt", $"key: ssh-ed25519 {Blob} ka@opt\noptions: [restrict, 'command=\"/usr/bin/date\"']"),
            Shows = [$"-no-pty ssh-ed25519 {Blob} ka@opt", $"+restrict,command=\"/usr/bin/date\" ssh-ed25519 {Blob} ka@opt"],
            Probe = Keys("ka-opt"),
            Expected = $"# first\nrestrict,command=\"/usr/bin/date\" ssh-ed25519 {Blob} ka@opt\nssh-ed25519 {Other} other\n600 ka-opt\n",
            Drift = $"sed -i 's/^restrict,command=\"\\/usr\\/bin\\/date\" /no-agent-forwarding /' /home/ka-opt/.ssh/authorized_keys",
            DriftShows = [$"-no-agent-forwarding ssh-ed25519 {Blob} ka@opt"],
        },
        new("options-removed")
        {
            Setup = UserWithKeys("ka-noopt", $"from=\"10.0.0.0/8\",no-pty ssh-ed25519 {Blob} ka@noopt\\n"),
            Site = Site("ka-noopt", $"key: ssh-ed25519 {Blob} ka@noopt"),
            Shows = [$"-from=\"10.0.0.0/8\",no-pty ssh-ed25519 {Blob} ka@noopt", $"+ssh-ed25519 {Blob} ka@noopt"],
            Probe = Keys("ka-noopt"),
            Expected = $"ssh-ed25519 {Blob} ka@noopt\n600 ka-noopt\n",
            Drift = $"sed -i 's/^/no-pty /' /home/ka-noopt/.ssh/authorized_keys",
            DriftShows = [$"-no-pty ssh-ed25519 {Blob} ka@noopt"],
        },
        new("type-and-comment")
        {
            // Data only, with type and comment as properties; a duplicate line of the same key goes.
            Setup = UserWithKeys("ka-type", $"ssh-ed25519 {Blob} old-comment\\nssh-ed25519 {Other} other\\nssh-ed25519 {Blob} duplicate\\n"),
            Site = Site("ka-type", $"type: ssh-ed25519\nkey: {Blob}\ncomment: ka@type"),
            Shows = [$"+ssh-ed25519 {Blob} ka@type", $"-ssh-ed25519 {Blob} duplicate"],
            Probe = Keys("ka-type"),
            Expected = $"ssh-ed25519 {Blob} ka@type\nssh-ed25519 {Other} other\n600 ka-type\n",
            Drift = "chmod 644 /home/ka-type/.ssh/authorized_keys",
            DriftShows = ["mode: 0644 → 0600"],
        },
        new("absent")
        {
            Setup = UserWithKeys("ka-gone", $"ssh-ed25519 {Other} other\\nno-pty ssh-ed25519 {Blob} ka@gone\\n# kept\\n"),
            Site = Site("ka-gone", $"key: ssh-ed25519 {Blob} ka@gone\nensure: absent"),
            Shows = ["ensure: present → absent", $"-no-pty ssh-ed25519 {Blob} ka@gone"],
            Probe = Keys("ka-gone"),
            Expected = $"ssh-ed25519 {Other} other\n# kept\n600 ka-gone\n",
            Drift = $"echo 'ssh-ed25519 {Blob} put back' >> /home/ka-gone/.ssh/authorized_keys",
            DriftShows = [$"-ssh-ed25519 {Blob} put back"],
        },
    ];

    [Fact]
    public async Task Key_OfUserWhoseHomeMovesInTheSameRun_LandsInTheNewHome()
    {
        var host = fixture.Host;
        (await host.ShAsync("useradd --create-home ka-mv")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync("/root/kit/home-moves/site.yaml", $"""
            resources:
              - user: ka-mv
                home: /srv/ka-mv
                managehome: true
              - authorized_key: ka-mv-key
                user: ka-mv
                key: ssh-ed25519 {Blob} ka@mv
            """);
        string[] args = ["apply", "/root/kit/home-moves", "--state-dir", "/var/lib/converge-kit/home-moves", "--json"];
        var plan = await host.ConvergeAsync([.. args, "--noop"]);
        plan.ExitCode.ShouldBe(2, plan.ToString());
        ConvergenceKit.Statuses(plan)["authorized_key[ka-mv-key]"].ShouldBe("unknown", "its home is about to change");
        var apply = await host.ConvergeAsync(args);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        (await host.ShAsync("cat /srv/ka-mv/.ssh/authorized_keys; stat -c '%a %U' /srv/ka-mv/.ssh /srv/ka-mv/.ssh/authorized_keys; test -e /home/ka-mv || echo old-gone")).Stdout
            .ShouldBe($"ssh-ed25519 {Blob} ka@mv\n700 ka-mv\n600 ka-mv\nold-gone\n");
        (await host.ConvergeAsync([.. args, "--noop"])).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Key_OfUserWithoutHomeDirectory_FailsInNoopAndApply_NamingTheHome()
    {
        var host = fixture.Host;
        (await host.ShAsync("useradd ka-nohome")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync("/root/kit/no-home/site.yaml", $"""
            resources:
              - authorized_key: ka-nohome-key
                user: ka-nohome
                key: ssh-ed25519 {Blob} ka@nohome
            """);
        string[] args = ["apply", "/root/kit/no-home", "--state-dir", "/var/lib/converge-kit/no-home"];
        var plan = await host.ConvergeAsync([.. args, "--noop"]);
        output.WriteLine(plan.ToString());
        var apply = await host.ConvergeAsync(args);
        output.WriteLine(apply.ToString());
        foreach (var run in new[] { plan, apply })
        {
            run.ExitCode.ShouldBe(4, run.ToString());
            run.Stdout.ShouldContain("home directory /home/ka-nohome of user ka-nohome does not exist; create it");
        }
        (await host.ShAsync("test -e /home/ka-nohome || echo none")).Stdout.ShouldBe("none\n", "nothing made");
    }

    public static TheoryData<string> Cases => new(All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task AuthorizedKeyProperty_ConvergenceKit(string name) => HostKit.RunAsync(fixture.Host, All.Single(c => c.Name == name), output);
}
