using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;
using Converge.Reporting.History;

namespace Converge.Cli.Undo;

/// <summary>What reverting a run takes: the resources to run, what cannot be reverted, and what changed since.</summary>
public sealed record UndoPlan(IReadOnlyList<CatalogResource> Resources, IReadOnlyList<string> CannotUndo, IReadOnlyList<string> Drifted);

/// <summary>
/// Turns a run's report into the resources that put its file, directory and link changes back: for
/// each path the run changed, the state recorded just before its first change becomes the desired
/// state (content from the bucket by hash, mode, owner, group, link target; absent paths are removed).
/// Pure except for reading the current state of those paths (to name drift) and asking the bucket
/// whether a content is still there. The resources run through the normal engine and providers, so an
/// undo has diffs, backups (of what it replaces or removes) and a report like any run.
/// </summary>
public sealed class UndoPlanner(ISystem system, FileBucket bucket)
{
    private static readonly HashSet<string> PathTypes = ["file", "directory", "link"];

    public UndoPlan Plan(StoredReport report)
    {
        var cannot = new List<string>();
        var drifted = new List<string>();
        // Path → the outcomes that changed it, in run order: the first one's before, the last one's after.
        var byPath = new Dictionary<string, List<ResourceOutcome>>(StringComparer.Ordinal);
        var runOrder = new List<string>();
        // What the run stored, by hash: names the file of a line edit (its title is a name, not a path).
        var indexFile = Path.Join(BucketIndex.DirectoryOf(bucket.Directory), report.RunId + ".jsonl");
        var stored = File.Exists(indexFile)
            ? BucketIndex.ReadFile(indexFile).GroupBy(e => e.Sha256).ToDictionary(g => g.Key, g => g.First().Path, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in report.Outcomes)
        {
            var touched = o.Status == OutcomeStatus.Changed || (o.Status == OutcomeStatus.Failed && o.Changes.Count > 0);
            if (!touched) continue;
            if (!PathTypes.Contains(o.Id.Type))
            {
                cannot.Add($"{o.Id}: {WhyNot(o, stored)}");
                continue;
            }
            foreach (var purge in o.Changes.Where(c => c.Property == "purge"))
                cannot.Add($"{o.Id}: purged {purge.From} is not put back" + (purge.Backup is { } sha
                    ? $" (its content is in the bucket: converge bucket restore {sha} {purge.From})" : ""));
            if (o.Before is null)
            {
                cannot.Add($"{o.Id}: the report has no before-state for it (written by an older converge, or the path could not be read)");
                continue;
            }
            // A path changed by several resources counts from its last change: it is undone first.
            if (!byPath.TryGetValue(o.Id.Title, out var list)) byPath[o.Id.Title] = list = [];
            else runOrder.Remove(o.Id.Title);
            list.Add(o);
            runOrder.Add(o.Id.Title);
        }

        // Reverse run order: what the run did last is undone first.
        var undoOrder = Enumerable.Reverse(runOrder).ToList();
        var resources = new List<CatalogResource>();
        foreach (var path in undoOrder)
        {
            var outcomes = byPath[path];
            var before = outcomes[0].Before!;
            var after = outcomes[^1].After ?? before;
            // Also sensitive: a change the run showed redacted, e.g. old content that held a secret's text
            // (the run scrubbed it with the secrets it knew; the undo knows none, so it hides the diff).
            var sensitive = outcomes.Any(o => o.Before?.Sensitive == true || o.After?.Sensitive == true || ShowedRedacted(o));
            var span = outcomes[0].Source;
            var now = PathState.Read(path, system, sensitive);
            if (Drift(after, now) is { } drift) drifted.Add($"{path}: changed since run {report.RunId}: {drift}; undo replaces it (with a backup)");
            if (before.Kind is "absent" or "link" && now.Kind == "directory" && Foreign(path, byPath) is { Count: > 0 } foreign)
            {
                // Removing it would fail (not empty) or, with force (a link put back), lose files nobody backed up.
                cannot.Add($"{path}: the run created this directory, but it now holds what the run did not create " +
                           $"({string.Join(", ", foreign.Take(3))}{(foreign.Count > 3 ? $", … {foreign.Count} in all" : "")}); it is left in place");
                continue;
            }
            if (Revert(path, before, after, sensitive, span, cannot) is { } resource) resources.Add(resource);
        }
        return new UndoPlan(Order(resources), cannot, drifted);
    }

    /// <summary>True when any change of the outcome was shown with <c>(redacted)</c> in it.</summary>
    public static bool ShowedRedacted(ResourceOutcome o) => o.Changes.Any(c =>
        c.From?.Contains(Value.Redacted, StringComparison.Ordinal) == true
        || c.To?.Contains(Value.Redacted, StringComparison.Ordinal) == true
        || c.UnifiedDiff?.Contains(Value.Redacted, StringComparison.Ordinal) == true);

    /// <summary>Entries inside <paramref name="directory"/> that the undo will not remove (the run did not create them).</summary>
    private List<string> Foreign(string directory, Dictionary<string, List<ResourceOutcome>> byPath)
    {
        var foreign = new List<string>();
        foreach (var name in system.ListDirectory(directory))
        {
            var path = directory == "/" ? "/" + name : directory + "/" + name;
            var removedByUndo = byPath.TryGetValue(path, out var list) && list[0].Before?.Kind == "absent";
            if (!removedByUndo) foreign.Add(path);
        }
        return foreign;
    }

    private CatalogResource? Revert(string path, PathState before, PathState after, bool sensitive, SourceSpan span, List<string> cannot)
    {
        var props = new List<(string, string)>();
        switch (before.Kind)
        {
            case "absent":
                return after.Kind switch
                {
                    "file" => Resource("file", path, span, sensitive, [("ensure", "absent")]),
                    "directory" => Resource("directory", path, span, sensitive, [("ensure", "absent")]),
                    "link" => Resource("link", path, span, sensitive, [("ensure", "absent")]),
                    "absent" => null,
                    _ => Cannot(cannot, path, "the run left a special file there, which undo does not remove"),
                };
            case "file":
                if (after.Kind == "directory")
                    return Cannot(cannot, path, "it was a file before the run and is a directory now; a file never replaces a directory");
                props.Add(("ensure", "file"));
                if (after.Kind != "file" || after.Sha256 != before.Sha256)
                {
                    if (before.Sha256 is { } sha && File.Exists(bucket.PathOf(sha)))
                        props.Add(("source", bucket.PathOf(sha)));
                    else
                    {
                        var why = $"its content before the run (sha256 {before.Sha256}) is not in the bucket (the resource had backup off, or the content was pruned)";
                        if (after.Kind != "file") return Cannot(cannot, path, why);
                        cannot.Add($"{path}: {why}; only its mode and owner are put back");
                    }
                }
                AddAttributes(props, before, after.Kind == "file" ? after : null);
                return props.Count > 1 ? Resource("file", path, span, sensitive, props) : null;
            case "directory":
                props.Add(("ensure", "directory"));
                if (after.Kind is "file" or "link") props.Add(("force", "true"));
                if (after.Kind == "absent")
                    cannot.Add($"{path}: the directory is re-created, but what was inside it when the run removed it is not put back");
                AddAttributes(props, before, after.Kind == "directory" ? after : null);
                return Resource("directory", path, span, sensitive, props);
            case "link":
                if (before.Target is null or Value.Redacted)
                    return Cannot(cannot, path, "its link target before the run was sensitive and is not recorded");
                props.Add(("target", before.Target));
                if (after.Kind is "file" or "directory") props.Add(("force", "true"));
                return Resource("link", path, span, sensitive, props);
            default:
                return Cannot(cannot, path, $"a {before.Kind} stood there before the run; undo does not make special files");
        }
    }

    private void AddAttributes(List<(string, string)> props, PathState before, PathState? after)
    {
        if (before.Uid is { } uid && after?.Uid != uid) props.Add(("owner", Principal(before.Owner, uid, system.Users.UidOf)));
        if (before.Gid is { } gid && after?.Gid != gid) props.Add(("group", Principal(before.Group, gid, system.Users.GidOf)));
        if (before.Mode is { } mode && after?.Mode != mode) props.Add(("mode", mode));
    }

    /// <summary>The recorded name when it still means the recorded id (reads better in the diff), else the id.</summary>
    private static string Principal(string? name, int id, Func<string, int?> resolve) =>
        name is not null && resolve(name) == id ? name : id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static CatalogResource? Cannot(List<string> cannot, string path, string why)
    {
        cannot.Add($"{path}: {why}");
        return null;
    }

    /// <summary>What differs between the state the run left and the state now, or null when nothing does.</summary>
    public static string? Drift(PathState after, PathState now)
    {
        var parts = new List<string>();
        if (after.Kind != now.Kind) parts.Add($"{after.Kind} → {now.Kind}");
        else
        {
            if (after.Sha256 != now.Sha256) parts.Add($"content sha256 {Short(after.Sha256)} → {Short(now.Sha256)}");
            if (after.Mode != now.Mode) parts.Add($"mode {after.Mode} → {now.Mode}");
            if (after.Uid != now.Uid) parts.Add($"owner {after.Owner ?? after.Uid?.ToString()} → {now.Owner ?? now.Uid?.ToString()}");
            if (after.Gid != now.Gid) parts.Add($"group {after.Group ?? after.Gid?.ToString()} → {now.Group ?? now.Gid?.ToString()}");
            if (after.Target != now.Target && after.Target != Value.Redacted) parts.Add($"target {after.Target} → {now.Target}");
        }
        return parts.Count == 0 ? null : string.Join(", ", parts);
    }

    private static string Short(string? sha) => sha is null ? "(none)" : sha[..Math.Min(12, sha.Length)];

    private static CatalogResource Resource(string type, string path, SourceSpan span, bool sensitive, IReadOnlyList<(string Key, string Value)> props)
    {
        var map = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (var (k, v) in props) map[k] = new ScalarValue(span, v, Quoted: k != "force");
        return new CatalogResource
        {
            Id = new ResourceId(type, path),
            Span = span,
            TitleSpan = span,
            Properties = map,
            Sensitive = sensitive,
            BaseDirectory = "/",
        };
    }

    /// <summary>
    /// Orders nested paths explicitly, in undo order (the list's order): a file the run created inside a
    /// directory it created is removed before the directory; a directory the run removed is re-created
    /// before what was inside it. Unrelated paths get no edge, so one failure skips only what depends on it.
    /// </summary>
    private static IReadOnlyList<CatalogResource> Order(List<CatalogResource> resources)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < resources.Count; i++) index[resources[i].Title] = i;
        var requires = resources.Select(_ => new List<ResourceRef>()).ToArray();
        for (var i = 0; i < resources.Count; i++)
        {
            for (var parent = Providers.Common.PathAutoRequires.ParentOf(resources[i].Title); parent is not null; parent = Providers.Common.PathAutoRequires.ParentOf(parent))
            {
                if (!index.TryGetValue(parent, out var j)) continue;
                var (first, second) = j < i ? (j, i) : (i, j);
                requires[second].Add(new ResourceRef(resources[first].Id, resources[second].Span));
            }
        }
        return resources.Select((r, i) => r with { Require = requires[i] }).ToList();
    }

    private static string WhyNot(ResourceOutcome o, IReadOnlyDictionary<string, string> stored) => o.Id.Type switch
    {
        "package" => "packages are not undone (an install is not removed, an upgrade not downgraded)",
        "user" or "group" => "accounts are not undone",
        "service" => "services are not undone (start, stop, enable and restart stay as they are)",
        "exec" => "a command that ran cannot be unrun",
        "cron" => "cron jobs are not undone",
        "authorized_key" => "authorized keys are not undone",
        "line" => o.Changes.FirstOrDefault(c => c.Backup is not null) is { Backup: { } sha }
            ? $"line edits are not undone; the file's content before the edit is in the bucket (converge bucket restore {sha} {stored.GetValueOrDefault(sha, "PATH")})"
            : "line edits are not undone, and this one had no backup",
        _ => $"{o.Id.Type} changes are not undone",
    };
}
