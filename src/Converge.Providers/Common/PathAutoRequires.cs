using Converge.Compiler.Catalog;

namespace Converge.Providers.Common;

/// <summary>The implicit dependencies of a resource that lives at a path.</summary>
public static class PathAutoRequires
{
    /// <summary>
    /// One auto-require on the nearest managed ancestor directory: <c>directory[/a/b]</c>, then
    /// <c>directory[/a]</c>, … up to <c>directory[/]</c>, closest first. Nothing for "/" itself.
    /// </summary>
    public static IEnumerable<AutoRequire> AncestorDirectory(string path)
    {
        var candidates = new List<ResourceId>();
        for (var parent = ParentOf(path); parent is not null; parent = ParentOf(parent))
            candidates.Add(new ResourceId("directory", parent));
        if (candidates.Count > 0) yield return new AutoRequire(candidates);
    }

    /// <summary><c>user[name]</c> and <c>group[name]</c> for owners given by name (numeric ids need no resource).</summary>
    public static IEnumerable<AutoRequire> Principals(Principal? owner, Principal? group)
    {
        if (owner is { IsName: true }) yield return AutoRequire.Of(new ResourceId("user", owner.Text));
        if (group is { IsName: true }) yield return AutoRequire.Of(new ResourceId("group", group.Text));
    }

    /// <summary>The parent of a normalized absolute path; null for "/".</summary>
    public static string? ParentOf(string path)
    {
        if (path == "/") return null;
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
