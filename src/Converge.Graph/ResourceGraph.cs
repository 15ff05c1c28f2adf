using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;

namespace Converge.Graph;

/// <summary>
/// The catalog's resources as a dependency graph: explicit edges (require, before, notify, subscribe)
/// and automatic ones, in a deterministic topological order (ties broken by id, so the same manifests
/// always give the same plan). Built only from data; knows nothing of what resources mean.
/// </summary>
public sealed class ResourceGraph
{
    private readonly Dictionary<ResourceId, List<Edge>> _out;
    private readonly Dictionary<ResourceId, List<Edge>> _in;

    private ResourceGraph(IReadOnlyDictionary<ResourceId, CatalogResource> resources, IReadOnlyList<Edge> edges, IReadOnlyList<ResourceId> order)
    {
        Resources = resources;
        Edges = edges;
        Order = order;
        _out = resources.Keys.ToDictionary(k => k, _ => new List<Edge>());
        _in = resources.Keys.ToDictionary(k => k, _ => new List<Edge>());
        foreach (var e in edges)
        {
            _out[e.From].Add(e);
            _in[e.To].Add(e);
        }
    }

    public IReadOnlyDictionary<ResourceId, CatalogResource> Resources { get; }

    /// <summary>Every edge, de-duplicated per (from, to, kind), in a stable order.</summary>
    public IReadOnlyList<Edge> Edges { get; }

    /// <summary>All resources, each after everything it depends on; ties broken by ordinal id.</summary>
    public IReadOnlyList<ResourceId> Order { get; }

    /// <summary>Edges into <paramref name="id"/>: what must run before it.</summary>
    public IReadOnlyList<Edge> Incoming(ResourceId id) => _in[id];

    /// <summary>Edges out of <paramref name="id"/>: what runs after it.</summary>
    public IReadOnlyList<Edge> Outgoing(ResourceId id) => _out[id];

    /// <summary>
    /// Builds the graph. References to resources that do not exist (CVG3001) and cycles (CVG3002, one
    /// diagnostic per cycle listing every resource on it with its location) go to
    /// <paramref name="diagnostics"/>; on errors the result is null.
    /// </summary>
    public static ResourceGraph? Build(
        ResourceCatalog catalog,
        Func<CatalogResource, IEnumerable<AutoRequire>> autoRequires,
        DiagnosticBag diagnostics,
        Func<CatalogResource, string?>? exclusiveKey = null)
    {
        var resources = new Dictionary<ResourceId, CatalogResource>();
        foreach (var r in catalog.Resources) resources.TryAdd(r.Id, r);

        var edges = new List<Edge>();
        var seen = new HashSet<(ResourceId, ResourceId, EdgeKind)>();
        var ok = true;

        void Add(ResourceId from, ResourceId to, EdgeKind kind, SourceSpan span)
        {
            if (seen.Add((from, to, kind))) edges.Add(new Edge(from, to, kind, span));
        }

        bool Check(CatalogResource owner, ResourceRef r, string key)
        {
            if (resources.ContainsKey(r.Target)) return true;
            var hint = Suggest.DidYouMean(r.Target.ToString(), resources.Keys.Select(k => k.ToString()));
            diagnostics.Error("CVG3001", r.Span,
                $"{key} refers to {r.Target}, which is not in the catalog for this node{hint}", owner.Id.ToString());
            return false;
        }

        foreach (var r in catalog.Resources)
        {
            foreach (var x in r.Require) if (Check(r, x, "require")) Add(x.Target, r.Id, EdgeKind.Require, x.Span); else ok = false;
            foreach (var x in r.Before) if (Check(r, x, "before")) Add(r.Id, x.Target, EdgeKind.Before, x.Span); else ok = false;
            foreach (var x in r.Notify) if (Check(r, x, "notify")) Add(r.Id, x.Target, EdgeKind.Notify, x.Span); else ok = false;
            foreach (var x in r.Subscribe) if (Check(r, x, "subscribe")) Add(x.Target, r.Id, EdgeKind.Subscribe, x.Span); else ok = false;
        }

        foreach (var r in catalog.Resources)
        foreach (var auto in autoRequires(r))
        {
            var target = auto.FirstOf.FirstOrDefault(resources.ContainsKey);
            if (target != default && target != r.Id) Add(target, r.Id, EdgeKind.Auto, r.Span);
        }

        // Every tie in the graph is broken by id. Ids are sorted once; afterwards they compare as ranks
        // (ints), which keeps ordering 10,000 resources cheap.
        var sortedIds = resources.Keys.ToArray();
        Array.Sort(sortedIds);
        var rank = new Dictionary<ResourceId, int>(sortedIds.Length);
        for (var i = 0; i < sortedIds.Length; i++) rank[sortedIds[i]] = i;

        var keyed = edges.Select(e => (From: rank[e.From], To: rank[e.To], e.Kind, Edge: e)).ToArray();
        Array.Sort(keyed, (a, b) =>
        {
            var c = a.From.CompareTo(b.From);
            if (c == 0) c = a.To.CompareTo(b.To);
            return c != 0 ? c : a.Kind.CompareTo(b.Kind);
        });
        edges.Clear();
        foreach (var k in keyed) edges.Add(k.Edge);

        var order = TopologicalOrder(sortedIds, rank, edges, out var cyclic);
        if (cyclic.Count > 0)
        {
            ReportCycles(resources, edges, cyclic, diagnostics);
            ok = false;
        }
        else if (exclusiveKey is not null && AddSerialEdges(order, resources, exclusiveKey, edges, seen))
        {
            // Chained in the order just computed, so no cycle can appear; the order is recomputed so
            // the run (which may start independent resources together) honours the chain.
            order = TopologicalOrder(sortedIds, rank, edges, out _);
        }
        return ok ? new ResourceGraph(resources, edges, order) : null;
    }

    private static bool AddSerialEdges(List<ResourceId> order, Dictionary<ResourceId, CatalogResource> resources,
        Func<CatalogResource, string?> exclusiveKey, List<Edge> edges, HashSet<(ResourceId, ResourceId, EdgeKind)> seen)
    {
        var last = new Dictionary<string, ResourceId>(StringComparer.Ordinal);
        var added = false;
        foreach (var id in order)
        {
            var r = resources[id];
            if (exclusiveKey(r) is not { } key) continue;
            if (last.TryGetValue(key, out var previous) && seen.Add((previous, id, EdgeKind.Serial)))
            {
                edges.Add(new Edge(previous, id, EdgeKind.Serial, r.Span));
                added = true;
            }
            last[key] = id;
        }
        return added;
    }

    /// <summary>
    /// Ids that must be part of a run limited to <paramref name="tags"/>: every resource carrying one of
    /// them, and everything those require (transitively), so a tagged resource never runs without its
    /// prerequisites.
    /// </summary>
    public IReadOnlySet<ResourceId> SelectByTags(IReadOnlyCollection<string> tags)
    {
        var selected = new HashSet<ResourceId>();
        var stack = new Stack<ResourceId>(Resources.Values
            .Where(r => r.Tags.Any(tags.Contains) || tags.Contains(r.Type))
            .Select(r => r.Id));
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!selected.Add(id)) continue;
            foreach (var e in _in[id]) stack.Push(e.From);
        }
        return selected;
    }

    // Kahn's algorithm with the ready set ordered by rank, so the order is the same on every run.
    private static List<ResourceId> TopologicalOrder(ResourceId[] sortedIds, Dictionary<ResourceId, int> rank,
        List<Edge> edges, out HashSet<ResourceId> cyclic)
    {
        var indegree = new int[sortedIds.Length];
        var next = new List<int>?[sortedIds.Length];
        foreach (var e in edges)
        {
            var to = rank[e.To];
            indegree[to]++;
            (next[rank[e.From]] ??= []).Add(to);
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < indegree.Length; i++)
            if (indegree[i] == 0) ready.Enqueue(i, i);
        var order = new List<ResourceId>(sortedIds.Length);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(sortedIds[i]);
            if (next[i] is { } successors)
                foreach (var n in successors)
                    if (--indegree[n] == 0) ready.Enqueue(n, n);
        }
        cyclic = [];
        for (var i = 0; i < indegree.Length; i++)
            if (indegree[i] > 0) cyclic.Add(sortedIds[i]);
        return order;
    }

    private static void ReportCycles(IReadOnlyDictionary<ResourceId, CatalogResource> resources, List<Edge> edges,
        HashSet<ResourceId> stuck, DiagnosticBag diagnostics)
    {
        var next = stuck.ToDictionary(i => i, _ => new List<ResourceId>());
        foreach (var e in edges)
            if (stuck.Contains(e.From) && stuck.Contains(e.To)) next[e.From].Add(e.To);
        foreach (var list in next.Values) list.Sort();

        var reported = new HashSet<ResourceId>();
        foreach (var start in stuck.OrderBy(i => i))
        {
            if (reported.Contains(start)) continue;
            var cycle = FindCycleFrom(start, next);
            if (cycle is null) continue; // downstream of a cycle, not on one
            // Rotate so the smallest id comes first: the same cycle always reads the same way.
            var min = cycle.IndexOf(cycle.Min());
            cycle = cycle.Skip(min).Concat(cycle.Take(min)).ToList();
            if (cycle.Any(reported.Contains)) continue;
            reported.UnionWith(cycle);
            var path = string.Join(" → ", cycle.Select(id => $"{id} ({resources[id].Span})")) + $" → {cycle[0]}";
            diagnostics.Error("CVG3002", resources[cycle[0]].Span,
                $"dependency cycle between {cycle.Count} resource{(cycle.Count == 1 ? "" : "s")}: {path}; break it by removing one require/before/notify/subscribe",
                cycle[0].ToString());
        }
    }

    // Depth-first search for a path from start back to start; the path is the cycle.
    private static List<ResourceId>? FindCycleFrom(ResourceId start, Dictionary<ResourceId, List<ResourceId>> next)
    {
        var path = new List<ResourceId> { start };
        var visited = new HashSet<ResourceId> { start };
        var iterators = new Stack<IEnumerator<ResourceId>>();
        iterators.Push(next[start].GetEnumerator());
        while (iterators.Count > 0)
        {
            var it = iterators.Peek();
            if (!it.MoveNext())
            {
                iterators.Pop();
                path.RemoveAt(path.Count - 1);
                continue;
            }
            var n = it.Current;
            if (n == start) return path;
            if (!visited.Add(n)) continue;
            path.Add(n);
            iterators.Push(next[n].GetEnumerator());
        }
        return null;
    }
}
