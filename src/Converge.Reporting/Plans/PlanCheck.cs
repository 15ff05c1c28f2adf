using Converge.Compiler.Catalog;
using Converge.Engine.Plans;
using Converge.Providers.Contract;

namespace Converge.Reporting.Plans;

/// <summary>
/// <c>apply --plan</c>: whether the plan computed now is the reviewed one. <see cref="Drift"/> compares
/// a fresh --noop plan with the saved one before anything is touched; <see cref="Enforcer"/> guards the
/// apply itself, resource by resource, against what may change between that check and each apply.
/// </summary>
public static class PlanCheck
{
    /// <summary>
    /// Everything that differs between the saved plan and the one computed now, one line each, in a
    /// stable order (host, node, key, revision, catalog, then resources in the plan's order). Empty: the
    /// same plan. Lines show only redacted values and field names, never a secret.
    /// </summary>
    public static IReadOnlyList<string> Drift(PlanDocument saved, PlanDocument now)
    {
        var drift = new List<string>();
        if (saved.Host != now.Host) drift.Add($"host: the plan is for host {saved.Host}; this is {now.Host}");
        if (saved.Node != now.Node) drift.Add($"node: the plan is for node {saved.Node}; this run compiles node {now.Node}");
        if (saved.KeyId != now.KeyId)
        {
            drift.Add($"digest key: the plan was made with key {saved.KeyId}, this state directory has key {now.KeyId} (a plan is checked on the host and state directory that made it)");
            return drift; // every digest differs with another key: listing them would bury the cause
        }
        if (saved.Revision?.Commit != now.Revision?.Commit)
            drift.Add($"manifest revision changed: {Short(saved.Revision)} → {Short(now.Revision)}");
        if (saved.CatalogDigest != now.CatalogDigest)
            drift.Add("desired state changed: the compiled catalog differs from the plan's");

        var fresh = now.Resources.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var planned = saved.Resources.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var e in saved.Resources)
        {
            if (!fresh.TryGetValue(e.Id, out var n))
            {
                drift.Add($"{e.Id}: removed from the manifests since the plan");
                continue;
            }
            var parts = Differences(e, n);
            if (parts.Count > 0) drift.Add($"{e.Id}: {string.Join("; ", parts)}");
        }
        foreach (var n in now.Resources)
            if (!planned.Contains(n.Id)) drift.Add($"{n.Id}: added to the manifests since the plan");
        return drift;
    }

    private static List<string> Differences(PlanEntry saved, PlanEntry now)
    {
        var parts = new List<string>();
        if (saved.DesiredDigest != now.DesiredDigest) parts.Add("desired state changed in the manifests");
        // A digest is missing where nothing was read (unknown, skipped, failed): the status says it then.
        if (saved.ActualDigest is not null && now.ActualDigest is not null && saved.ActualDigest != now.ActualDigest)
        {
            if (saved.ActualFields is { } a && now.ActualFields is { } b)
            {
                var fields = a.Keys.Union(b.Keys).Where(k => !a.TryGetValue(k, out var x) || !b.TryGetValue(k, out var y) || x != y).ToHashSet(StringComparer.Ordinal);
                // A path that appeared or went (status: none → a file) stands for all its members.
                var shown = fields.Where(f => !fields.Any(g => f.StartsWith(g + ".", StringComparison.Ordinal))).Order(StringComparer.Ordinal);
                parts.Add($"actual state changed since the plan ({string.Join(", ", shown)})");
            }
            else parts.Add("actual state changed since the plan");
        }
        if (saved.Status != now.Status) parts.Add($"was {saved.Status}, now {now.Status}");
        if (saved.ChangesDigest is not null && now.ChangesDigest is not null
            && (saved.ChangesDigest != now.ChangesDigest || !SameShown(saved.Changes, now.Changes)))
            parts.Add($"planned {Describe(saved.Changes)}, now {Describe(now.Changes)}");
        if (saved.Message != now.Message && saved.Status == now.Status && saved.Status is "failed" or "unknown" or "skipped")
            parts.Add($"was \"{saved.Message}\", now \"{now.Message}\"");
        if (saved.Refreshed != now.Refreshed || !saved.RefreshedBy.SequenceEqual(now.RefreshedBy))
            parts.Add($"refresh planned {(saved.Refreshed ? "by " + string.Join(", ", saved.RefreshedBy) : "none")}, now {(now.Refreshed ? "by " + string.Join(", ", now.RefreshedBy) : "none")}");
        return parts;
    }

    /// <summary>
    /// The changes as the reviewer read them (redacted), compared on what they do; <c>from</c> is left to
    /// the actual-state digest (see <see cref="StateDigest.Changes"/>).
    /// </summary>
    internal static bool SameShown(IReadOnlyList<Change> a, IReadOnlyList<Change> b)
        => a.Count == b.Count && a.Zip(b).All(p => p.First.Property == p.Second.Property && p.First.To == p.Second.To
            && p.First.UnifiedDiff == p.Second.UnifiedDiff
            && (p.First.Argv ?? []).SequenceEqual(p.Second.Argv ?? []) && (p.First.Argv is null) == (p.Second.Argv is null));

    /// <summary>Changes in one line, values as shown (redacted): <c>mode 0600 → 0644, content</c>.</summary>
    public static string Describe(IReadOnlyList<Change> changes)
    {
        if (changes.Count == 0) return "no change";
        return string.Join(", ", changes.Select(c => c.UnifiedDiff is not null || (c.From?.Length ?? 0) + (c.To?.Length ?? 0) > 80
            ? c.Property
            : $"{c.Property} {c.From ?? "(none)"} → {c.To ?? "(none)"}"));
    }

    private static string Short(Revision? r) => r?.Commit is null ? "(no git revision)" : r.Short;

    /// <summary>
    /// The gate of the apply that follows a successful check: a resource whose changes are not the
    /// reviewed ones is failed, not applied (its dependents are skipped). Its actual state must also be
    /// the planned one unless something upstream of it changed in this run (then only its changes must
    /// be the same). A resource the plan showed as unknown runs as it reads now: the reviewer saw that
    /// its outcome depends on the pending change it names.
    /// </summary>
    public sealed class Enforcer(PlanDocument plan, StateDigest digest) : IResourceGate
    {
        private readonly Dictionary<string, PlanEntry> _entries = plan.Resources.ToDictionary(e => e.Id, StringComparer.Ordinal);

        public string? Check(ReadResource read)
        {
            var id = read.Id.ToString();
            if (!_entries.TryGetValue(id, out var entry)) return "not applied: not in the reviewed plan";
            if (entry.Status == "unknown") return null;
            if (digest.Changes(read.Changes) != entry.ChangesDigest || !SameShown(entry.Changes, read.Shown))
                return $"not applied: its changes differ from the reviewed plan (planned {Describe(entry.Changes)}, now {Describe(read.Shown)}); make a new plan";
            if (!read.AfterUpstreamChange && digest.Actual(read.Actual).Digest != entry.ActualDigest)
                return "not applied: its actual state changed after the plan was checked; make a new plan";
            return null;
        }
    }
}
