namespace Converge.Compiler.Compilation;

/// <summary>
/// The names a <c>{{ }}</c> expression or template can see: <c>facts</c>, <c>vars</c>, <c>params</c>,
/// <c>secrets</c>, <c>node</c>, and inside <c>for_each</c> also <c>item</c> and <c>key</c>. Immutable;
/// <see cref="WithItem"/> makes a child scope.
/// </summary>
internal sealed class Scope
{
    /// <summary>The variables every scope has; also the did-you-mean candidates for undefined ones.</summary>
    public static readonly string[] GlobalNames = ["facts", "vars", "params", "secrets", "node", "item", "key"];

    private Scope(TrackedObject root) => Root = root;

    /// <summary>The Scriban global object holding the scope's variables.</summary>
    public TrackedObject Root { get; }

    public static Scope Create(TaintTracker tracker, object? facts, TrackedObject vars, TrackedObject parameters,
        TrackedObject secrets, string node)
    {
        var root = new TrackedObject(tracker, "");
        root.Set("facts", facts, tainted: false);
        root.Set("vars", vars, tainted: false);
        root.Set("params", parameters, tainted: false);
        // Reading `secrets` at all (a `for` over it, passing it whole) counts as reading a secret.
        root.Set("secrets", secrets, tainted: true);
        root.Set("node", node, tainted: false);
        return new Scope(root);
    }

    /// <summary>A child scope for one <c>for_each</c> iteration.</summary>
    public Scope WithItem(object? item, object? key, bool tainted, TaintTracker tracker)
    {
        var root = new TrackedObject(tracker, "");
        foreach (var name in Root.GetMembers())
            if (name is not ("item" or "key"))
                root.Set(name, Root.Get(name), Root.IsTainted(name));
        root.Set("item", item, tainted);
        if (key is not null) root.Set("key", key, tainted);
        return new Scope(root);
    }
}
