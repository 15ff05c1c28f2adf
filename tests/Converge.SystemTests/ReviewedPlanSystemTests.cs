using Converge.Testing;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// Reviewed plans with a real user in a throwaway host: a plan made, the user changed behind Converge's
/// back with usermod, <c>apply --plan</c> refused naming what drifted and changing nothing; a new plan
/// then applied exactly, with the password hash never in the plan file.
/// </summary>
public class ReviewedPlanSystemTests(ITestOutputHelper output)
{
    // A real SHA-512 crypt hash (of "converge"); it must never appear in the plan or any output.
    private const string Hash = "$6$convergetest$YqEfUH7aV0n4QnU8x8o6bqk8gQ6m4Y3e9pX5oZkQZ0yq2Ww7wJ1sGq3k0fS1oV4mQ2pZ6e7rT9uY0iL3kJ5hN.";

    private const string Manifest = $$"""
        resources:
          - group: deploy
            gid: 2000
          - user: deploy
            uid: 2001
            gid: deploy
            shell: /bin/bash
            password: "{{Hash}}"
        """;

    [Fact]
    public async Task User_ChangedWithUsermodAfterThePlan_ApplyPlanRefused_NewPlanApplied()
    {
        await using var host = ThrowawayHost.Start();
        (await host.ShAsync("groupadd --gid 2000 deploy && useradd --uid 2001 --gid deploy --shell /bin/sh deploy")).ExitCode.ShouldBe(0);
        await host.WriteFileAsync("/root/site/site.yaml", Manifest);
        var runs = new List<ConvergeRun>();
        async Task<ConvergeRun> Run(params string[] args)
        {
            var run = await host.ConvergeAsync(args);
            output.WriteLine(run.ToString());
            runs.Add(run);
            return run;
        }

        (await Run("--noop", "/root/site", "--out", "/root/plan.json")).ExitCode.ShouldBe(2);
        (await host.ShAsync("usermod --comment 'changed by hand' deploy")).ExitCode.ShouldBe(0);

        var refused = await Run("apply", "/root/site", "--plan", "/root/plan.json");
        refused.ExitCode.ShouldBe(1, refused.ToString());
        refused.Stderr.ShouldContain("user[deploy]: actual state changed since the plan (comment)");
        (await host.RunAsync(["getent", "passwd", "deploy"])).Stdout.ShouldBe("deploy:x:2001:2000:changed by hand:/home/deploy:/bin/sh\n");
        (await host.ShAsync("grep ^deploy: /etc/shadow | cut -d: -f2")).Stdout.ShouldNotContain(Hash);

        (await Run("--noop", "/root/site", "--out", "/root/plan.json")).ExitCode.ShouldBe(2);
        var planText = (await host.RunAsync(["cat", "/root/plan.json"])).Stdout;
        string.Concat(planText.Where(c => !char.IsWhiteSpace(c))).ShouldContain("\"argv\":[\"usermod\",\"--password\",\"(redacted)\",\"deploy\"]",
            Case.Sensitive, "the command is in the plan, only the hash is hidden");
        var applied = await Run("apply", "/root/site", "--plan", "/root/plan.json");
        applied.ExitCode.ShouldBe(2, applied.ToString());
        (await host.RunAsync(["getent", "passwd", "deploy"])).Stdout.ShouldBe("deploy:x:2001:2000:changed by hand:/home/deploy:/bin/bash\n");
        (await host.ShAsync("grep ^deploy: /etc/shadow | cut -d: -f2")).Stdout.ShouldBe(Hash + "\n");

        planText.ShouldNotContain(Hash);
        planText.ShouldNotContain("convergetest");
        foreach (var run in runs)
        {
            run.Stdout.ShouldNotContain("convergetest");
            run.Stderr.ShouldNotContain("convergetest");
        }
    }
}
