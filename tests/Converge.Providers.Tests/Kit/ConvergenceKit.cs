namespace Converge.Providers.Tests.Kit;

/// <summary>
/// Runs one provider against the real machine (<see cref="LocalSystem"/>, a <see cref="FileBucket"/> in a
/// temp directory) the way the engine does: Read then Diff is the plan, Apply executes that plan.
/// <see cref="ConvergeAsync"/> is STYLE.md's convergence kit at provider level.
/// </summary>
public sealed class ConvergenceKit(IResourceProvider provider, string bucketDirectory, IReadOnlySet<string>? managedPaths = null)
{
    public ISystem System { get; } = new LocalSystem();

    public FileBucket Bucket { get; } = new(bucketDirectory);

    public ProviderContext Context => new(System, Bucket, managedPaths ?? new HashSet<string>());

    /// <summary>Read + Diff: what <c>--noop</c> would show.</summary>
    public async Task<IReadOnlyList<Change>> PlanAsync(ResourceSpec spec)
    {
        var actual = await provider.ReadAsync(spec, Context, CancellationToken.None);
        return provider.Diff(spec, actual);
    }

    /// <summary>Read + Diff + Apply of exactly that diff; returns the changes applied.</summary>
    public async Task<IReadOnlyList<Change>> ApplyAsync(ResourceSpec spec)
    {
        var actual = await provider.ReadAsync(spec, Context, CancellationToken.None);
        var changes = provider.Diff(spec, actual);
        await provider.ApplyAsync(spec, actual, changes, Context, CancellationToken.None);
        return changes;
    }

    /// <summary>
    /// 1. the plan shows changes; 2. apply makes them; 3. a new plan is empty; 4. apply again changes
    /// nothing; 5. the plan predicted exactly what apply did. Returns the applied changes.
    /// </summary>
    public async Task<IReadOnlyList<Change>> ConvergeAsync(ResourceSpec spec)
    {
        var predicted = await PlanAsync(spec);
        predicted.ShouldNotBeEmpty("the plan should show the change");
        var applied = await ApplyAsync(spec);
        Show(applied).ShouldBe(Show(predicted), "apply should do exactly what the plan predicted");
        (await PlanAsync(spec)).ShouldBeEmpty("a plan after apply should be empty");
        (await ApplyAsync(spec)).ShouldBeEmpty("a second apply should change nothing");
        (await PlanAsync(spec)).ShouldBeEmpty("and the plan should stay empty");
        return applied;
    }

    /// <summary>A change as one comparable line (records compare lists by reference).</summary>
    public static string Show(Change c) =>
        $"{c.Property}: {c.From ?? "null"} -> {c.To ?? "null"}"
        + (c.Argv is null ? "" : " argv=[" + string.Join(", ", c.Argv) + "]")
        + (c.Backup is null ? "" : " backup=" + c.Backup)
        + (c.UnifiedDiff is null ? "" : "\n" + c.UnifiedDiff);

    public static IReadOnlyList<string> Show(IEnumerable<Change> changes) => changes.Select(Show).ToList();
}
