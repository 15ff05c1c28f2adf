using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>authorized_key against a real user (useradd in the host): modes sshd demands, other lines kept.</summary>
public class AuthorizedKeySystemTests(ITestOutputHelper output)
{
    private const string Site = "/root/site";
    private const string Blob = "AAAAC3NzaC1lZDI1NTE5AAAAICtIywl7umHz0JSzGYhip00SZwQHQTjXLTKmawbnA6J2";

    private static async Task<ConvergeRun> Run(ThrowawayHost host, bool noop, bool json = true)
    {
        var args = new List<string> { "apply", Site };
        if (json) args.Add("--json");
        if (noop) args.Add("--noop");
        return await host.ConvergeAsync(args);
    }

    [Fact]
    public async Task AuthorizedKey_ConvergenceKit_RealUser()
    {
        await using var host = ThrowawayHost.Start(new HostOptions { Hostname = "keys-1" });
        (await host.RunAsync(["useradd", "--create-home", "alice"])).ExitCode.ShouldBe(0);
        await host.WriteFileAsync(Site + "/site.yaml", $"""
            resources:
              - authorized_key: alice-laptop
                user: alice
                key: ssh-ed25519 {Blob} alice@laptop
                options: ['from="10.0.0.0/8"', no-pty]
            """);

        var text = await Run(host, noop: true, json: false);
        output.WriteLine(text.Stdout);
        var plan = await Run(host, noop: true);
        plan.ExitCode.ShouldBe(2, plan.ToString());
        var apply = await Run(host, noop: false);
        apply.ExitCode.ShouldBe(2, apply.ToString());
        ConvergenceKit.Changes(apply).ShouldBe(ConvergenceKit.Changes(plan));
        (await host.ShAsync("stat -c '%a %U:%G' /home/alice/.ssh /home/alice/.ssh/authorized_keys")).Stdout
            .ShouldBe("700 alice:alice\n600 alice:alice\n");
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);
        (await Run(host, noop: false)).ExitCode.ShouldBe(0);

        // A key added by hand stays; a changed comment on the managed key is drift, repaired in place.
        (await host.ShAsync($"echo 'ssh-ed25519 {Blob} renamed' > /home/alice/.ssh/authorized_keys.new && echo '# hand' >> /home/alice/.ssh/authorized_keys.new && mv /home/alice/.ssh/authorized_keys.new /home/alice/.ssh/authorized_keys")).ExitCode.ShouldBe(0);
        var drift = await Run(host, noop: true);
        drift.ExitCode.ShouldBe(2, drift.ToString());
        var changes = ConvergenceKit.Changes(drift)["authorized_key[alice-laptop]"];
        changes.ShouldContain("\"key\"");
        changes.ShouldContain("\"mode\"");
        (await Run(host, noop: false)).ExitCode.ShouldBe(2);
        (await host.RunAsync(["cat", "/home/alice/.ssh/authorized_keys"])).Stdout
            .ShouldBe($"from=\"10.0.0.0/8\",no-pty ssh-ed25519 {Blob} alice@laptop\n# hand\n");
        (await host.ShAsync("stat -c '%a %U:%G' /home/alice/.ssh/authorized_keys")).Stdout.ShouldBe("600 alice:alice\n");
        (await Run(host, noop: true)).ExitCode.ShouldBe(0);
    }
}
