using System.Collections.Concurrent;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Engine.Tests;

public class BatchedReadTests
{
    [Fact]
    public async Task Run_BatchedProvider_OneBatchRead_SingleReadOnlyAfterUpstreamChange()
    {
        var provider = new BatchedProvider();
        provider.State["a"] = "on"; // a is converged; b changes; c requires b, so its batched state may be stale
        var dir = Directory.CreateTempSubdirectory("converge-engine-").FullName;
        try
        {
            var resources = new[] { Resource("a"), Resource("b"), Resource("c", require: "b") };
            var bag = new DiagnosticBag();
            var run = RunPreparer.Prepare(new ResourceCatalog("node", resources, [], []), new ProviderRegistry([provider]), bag)!;
            bag.Sorted().ShouldBeEmpty();
            var context = new ProviderContext(new LocalSystem(), new FileBucket(Path.Combine(dir, "bucket")), run.ManagedPaths);
            var engine = new RunEngine(context, RefreshJournal.Open(Path.Combine(dir, "journal.json")), new Redactor([]));
            var result = await engine.RunAsync(run, new RunOptions { RunId = "t" }, new EngineHarness.Collecting(), CancellationToken.None);

            result.Outcomes.Select(o => o.Status).ShouldBe([OutcomeStatus.Unchanged, OutcomeStatus.Changed, OutcomeStatus.Changed]);
            provider.Reads.ShouldBe(["batch a,b,c", "single c"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static CatalogResource Resource(string title, string? require = null)
    {
        var span = new SourceSpan("site.yaml", 1, 3, 1, 12);
        return new CatalogResource
        {
            Id = new ResourceId("batched", title),
            Span = span,
            Properties = new Dictionary<string, Value>(),
            Require = require is null ? [] : [new ResourceRef(new ResourceId("batched", require), span)],
            BaseDirectory = "/tmp",
        };
    }

    private sealed class BatchedProvider : ResourceProvider<ScriptedSpec, string>, IBatchedReader
    {
        public ConcurrentDictionary<string, string> State { get; } = new();
        public ConcurrentQueue<string> Reads { get; } = new();
        public override string Type => "batched";
        public override IReadOnlyCollection<string> PropertyNames => [];

        public override ScriptedSpec Parse(CatalogResource resource, DiagnosticBag diagnostics) => new() { Id = resource.Id, Value = "on" };

        public override ValueTask<string> ReadAsync(ScriptedSpec spec, ProviderContext context, CancellationToken ct)
        {
            Reads.Enqueue("single " + spec.Id.Title);
            return ValueTask.FromResult(State.GetValueOrDefault(spec.Id.Title, "absent"));
        }

        public ValueTask<IReadOnlyDictionary<ResourceId, object>> ReadManyAsync(IReadOnlyList<ResourceSpec> specs, ProviderContext context, CancellationToken ct)
        {
            Reads.Enqueue("batch " + string.Join(",", specs.Select(s => s.Id.Title)));
            return ValueTask.FromResult<IReadOnlyDictionary<ResourceId, object>>(
                specs.ToDictionary(s => s.Id, s => (object)State.GetValueOrDefault(s.Id.Title, "absent")));
        }

        public override IReadOnlyList<Change> Diff(ScriptedSpec spec, string actual) => actual == spec.Value ? [] : [new Change("value", actual, spec.Value)];

        public override ValueTask ApplyAsync(ScriptedSpec spec, string actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
        {
            State[spec.Id.Title] = spec.Value;
            return ValueTask.CompletedTask;
        }
    }
}
