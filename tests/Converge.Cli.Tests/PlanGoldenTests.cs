using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// The human view of real runs, pinned: each folder under Golden/plans has a site.yaml (using @ROOT@ for
/// a temp directory) and an optional before/ tree copied there first. The test records --noop
/// (plan.txt), apply (apply.txt) and the --noop after it (replan.txt), through the real executable.
/// </summary>
public class PlanGoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Golden.CasesDirectory(), "plans")).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Plan_ApplyAndReplan_MatchGoldens(string caseName)
    {
        var caseDir = Path.Combine(Golden.CasesDirectory(), "plans", caseName);
        using var root = new TempDir();
        using var state = new TempDir();
        var before = Path.Combine(caseDir, "before");
        if (Directory.Exists(before))
            foreach (var file in Directory.EnumerateFiles(before, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(root.Path, Path.GetRelativePath(before, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        using var manifest = new TempDir();
        var site = File.ReadAllText(Path.Combine(caseDir, "site.yaml")).Replace("@ROOT@", root.Path);
        File.WriteAllText(Path.Combine(manifest.Path, "site.yaml"), site);

        string Run(bool noop, int expectedExit)
        {
            var args = new List<string> { "apply", manifest.Path, "--state-dir", state.Path, "--node", "golden-node" };
            if (noop) args.Add("--noop");
            var run = ConvergeProcess.Run(args);
            run.ExitCode.ShouldBe(expectedExit, run.ToString());
            run.Stderr.ShouldBeEmpty();
            return Golden.Scrub(run.Stdout, (root.Path, "@ROOT@"), (manifest.Path, "@MANIFEST@"));
        }

        Golden.Verify($"plans/{caseName}/plan.txt", Run(noop: true, 2));
        Golden.Verify($"plans/{caseName}/apply.txt", Run(noop: false, 2));
        Golden.Verify($"plans/{caseName}/replan.txt", Run(noop: true, 0));
    }
}
