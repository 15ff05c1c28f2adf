using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;

namespace Converge.Graph;

/// <summary>Why one resource runs before another.</summary>
public enum EdgeKind
{
    /// <summary><c>require:</c> written on the later resource.</summary>
    Require,
    /// <summary><c>before:</c> written on the earlier resource.</summary>
    Before,
    /// <summary><c>notify:</c> written on the earlier resource; also sends a refresh.</summary>
    Notify,
    /// <summary><c>subscribe:</c> written on the later resource; also receives a refresh.</summary>
    Subscribe,
    /// <summary>Added by the type (parent directory, owner's user); never written by hand.</summary>
    Auto,
    /// <summary>
    /// Orders resources that must not run at the same time (same exclusive key), in the order the run
    /// would take anyway. Only orders: a failure on one side does not skip the other.
    /// </summary>
    Serial,
}

/// <summary>
/// <paramref name="From"/> runs before <paramref name="To"/>. <paramref name="Span"/> is where the edge
/// was written (for auto edges: the later resource's declaration).
/// </summary>
public sealed record Edge(ResourceId From, ResourceId To, EdgeKind Kind, SourceSpan Span)
{
    /// <summary>Notify and subscribe edges carry a refresh from <see cref="From"/> to <see cref="To"/>.</summary>
    public bool Refreshes => Kind is EdgeKind.Notify or EdgeKind.Subscribe;
}
