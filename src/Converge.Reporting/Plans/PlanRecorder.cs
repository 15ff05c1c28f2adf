using System.Collections.Concurrent;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Engine.Plans;

namespace Converge.Reporting.Plans;

/// <summary>
/// The gate of a --noop run whose plan is saved: records each resource's actual-state and changes
/// digests as the engine reads it, and lets everything go on. <see cref="Build"/> then puts them
/// together with the outcomes into a <see cref="PlanDocument"/>.
/// </summary>
public sealed class PlanRecorder(StateDigest digest) : IResourceGate
{
    private sealed record Read(string Actual, IReadOnlyDictionary<string, string> Fields, string Changes);

    private readonly ConcurrentDictionary<ResourceId, Read> _reads = new();

    public StateDigest Digest => digest;

    public string? Check(ReadResource read)
    {
        var (actual, fields) = digest.Actual(read.Actual);
        _reads[read.Id] = new Read(actual, fields, digest.Changes(read.Changes));
        return null;
    }

    /// <summary>The plan of a finished --noop run: its outcomes (already redacted) with the recorded digests.</summary>
    public PlanDocument Build(PreparedRun run, RunResult result, RunContext context, string node, IReadOnlyList<string> tags)
    {
        var entries = new List<PlanEntry>(result.Outcomes.Count);
        foreach (var o in result.Outcomes)
        {
            _reads.TryGetValue(o.Id, out var read);
            entries.Add(new PlanEntry(o.Id.ToString(), RunReport.StatusName(o.Status), o.Source.ToString())
            {
                Message = o.Message,
                Changes = o.Changes,
                RefreshedBy = o.RefreshedBy,
                Refreshed = o.Refreshed,
                RefreshChanges = o.RefreshChanges,
                DesiredDigest = digest.Desired(run.Resources[o.Id].Resource),
                ActualDigest = read?.Actual,
                ActualFields = read?.Fields,
                ChangesDigest = read?.Changes,
            });
        }
        return new PlanDocument
        {
            PlanId = context.RunId,
            CreatedAt = context.StartedAt,
            Host = context.Host,
            Node = node,
            User = context.User,
            SudoUser = context.SudoUser,
            ManifestPath = context.ManifestPath,
            Revision = context.Revision,
            CatalogDigest = digest.Catalog(run.Catalog.Node, run.Catalog.Resources),
            KeyId = digest.KeyId,
            Tags = tags,
            Summary = result.Summary,
            ExitCode = result.ExitCode,
            Resources = entries,
        };
    }
}
