using System.Text.Json.Nodes;
using Xunit;

namespace Converge.Testing;

/// <summary>
/// The convergence kit every resource type passes (STYLE.md), run through the real executable against
/// real files: 1. --noop shows the change; 2. apply makes it, exactly as predicted; 3. a new plan is
/// empty; 4. apply again changes nothing; 5. a change made behind Converge's back shows up as drift in
/// --noop, and apply repairs it. The manifest text may use <c>@ROOT@</c> for the test's temp directory.
/// </summary>
public sealed class ConvergenceKit : IDisposable
{
    private readonly TempDir _root = new("converge-kit-");
    private readonly TempDir _state = new("converge-state-");

    public ConvergenceKit(string manifest)
    {
        ManifestPath = _root.Write("manifest/site.yaml", manifest.Replace("@ROOT@", Root));
    }

    /// <summary>Where the manifest's resources live; everything under it is the test's to change.</summary>
    public string Root => _root.Path;

    public string StateDir => _state.Path;

    public string ManifestPath { get; }

    public string ManifestDir => Path.GetDirectoryName(ManifestPath)!;

    /// <summary>Writes a file beside the manifest (modules, templates, files).</summary>
    public string WriteManifestFile(string relative, string content) => _root.Write(Path.Combine("manifest", relative), content.Replace("@ROOT@", Root));

    public ConvergeRun Converge(bool noop, params string[] extra)
    {
        var args = new List<string> { "apply", ManifestDir, "--state-dir", StateDir, "--json" };
        if (noop) args.Add("--noop");
        args.AddRange(extra);
        return ConvergeProcess.Run(args);
    }

    /// <summary>The resources a --json run reports as changed/would-change, with their changes (diff text included, backup hashes not).</summary>
    public static SortedDictionary<string, string> Changes(ConvergeRun run)
    {
        var report = JsonNode.Parse(run.Stdout) ?? throw new InvalidOperationException("no report:\n" + run);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in report["resources"]!.AsArray())
        {
            var status = (string)r!["status"]!;
            if (status is "unchanged") continue;
            var changes = r["changes"]?.AsArray().Select(c =>
            {
                var copy = c!.DeepClone().AsObject();
                copy.Remove("backup");
                return copy.ToJsonString();
            }) ?? [];
            var refresh = r["refreshed"] is { } refreshed && (bool)refreshed! ? " +refresh" : "";
            result[(string)r["id"]!] = string.Join("\n", changes) + refresh;
        }
        return result;
    }

    public static IReadOnlyDictionary<string, string> Statuses(ConvergeRun run)
        => JsonNode.Parse(run.Stdout)!["resources"]!.AsArray()
            .ToDictionary(r => (string)r!["id"]!, r => (string)r!["status"]!);

    /// <summary>
    /// Runs the whole kit. <paramref name="drift"/> changes the machine behind Converge's back and
    /// returns the ids whose drift --noop must report.
    /// </summary>
    public void Verify(Func<string, IEnumerable<string>> drift)
    {
        var plan = Converge(noop: true);
        Assert.True(plan.ExitCode == 2, "1. --noop must report pending changes (exit 2)\n" + plan);
        var predicted = Changes(plan);
        Assert.NotEmpty(predicted);
        Assert.All(Statuses(plan).Values, s => Assert.Contains(s, new[] { "would-change", "unchanged" }));

        var apply = Converge(noop: false);
        Assert.True(apply.ExitCode == 2, "2. apply must make the changes (exit 2)\n" + apply);
        Assert.All(Statuses(apply).Values, s => Assert.Contains(s, new[] { "changed", "unchanged" }));
        Assert.Equal(predicted, Changes(apply)); // 5. --noop predicted exactly what apply did

        var replan = Converge(noop: true);
        Assert.True(replan.ExitCode == 0, "3. after apply, a new plan must be empty\n" + replan);

        var again = Converge(noop: false);
        Assert.True(again.ExitCode == 0, "4. apply again must change nothing\n" + again);
        Assert.Empty(Changes(again));

        var drifted = drift(Root).Order(StringComparer.Ordinal).ToList();
        var detect = Converge(noop: true);
        Assert.True(detect.ExitCode == 2, "6. drift must be reported by --noop\n" + detect);
        Assert.Equal(drifted, Changes(detect).Keys.Where(drifted.Contains).ToList());

        var repair = Converge(noop: false);
        Assert.True(repair.ExitCode == 2, "apply must repair the drift\n" + repair);
        Assert.True(Converge(noop: true).ExitCode == 0, "after the repair, the plan must be empty");
    }

    public void Dispose()
    {
        _root.Dispose();
        _state.Dispose();
    }
}
