using System.Collections.Concurrent;
using Converge.Compiler.Catalog;
using Converge.Graph;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Engine.Tests;

/// <summary>Declares scripted resources and runs them through the real preparer and engine.</summary>
internal sealed class EngineHarness : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("converge-engine-").FullName;

    private readonly List<CatalogResource> _resources = new();
    public ScriptedProvider Provider { get; } = new();
    public string JournalPath => Path.Combine(_dir, "refresh-journal.json");
    public List<string> Secrets { get; } = new();

    public EngineHarness Add(string title, string value = "on", string[]? require = null, string[]? notify = null, bool secret = false, bool noop = false)
    {
        var line = _resources.Count + 1;
        var span = new SourceSpan("site.yaml", line, 3, line, 12);
        var props = new Dictionary<string, Value> { ["value"] = new ScalarValue(span, value, true, secret) };
        if (secret) props["secret"] = new ScalarValue(span, "x", true, true);
        _resources.Add(new CatalogResource
        {
            Id = new ResourceId("scripted", title),
            Span = span,
            Properties = props,
            Require = (require ?? []).Select(r => new ResourceRef(new ResourceId("scripted", r), span)).ToList(),
            Notify = (notify ?? []).Select(r => new ResourceRef(new ResourceId("scripted", r), span)).ToList(),
            Noop = noop,
            BaseDirectory = "/tmp",
        });
        return this;
    }

    public async Task<RunResult> RunAsync(bool noop = false, CancellationToken ct = default, IRunObserver? observer = null, Plans.IResourceGate? gate = null)
    {
        var bag = new DiagnosticBag();
        var catalog = new ResourceCatalog("node", _resources, [], Secrets);
        var run = RunPreparer.Prepare(catalog, new ProviderRegistry([Provider]), bag);
        bag.Sorted().ShouldBeEmpty();
        var context = new ProviderContext(new LocalSystem(), new FileBucket(Path.Combine(_dir, "bucket")), run!.ManagedPaths);
        var engine = new RunEngine(context, RefreshJournal.Open(JournalPath), new Redactor(Secrets));
        return await engine.RunAsync(run, new RunOptions { Noop = noop, RunId = "test", Gate = gate }, observer ?? new Collecting(), ct);
    }

    public string Status(RunResult r, string title) => RunReportStatus(r.Outcomes.Single(o => o.Id.Title == title).Status);

    private static string RunReportStatus(OutcomeStatus s) => s.ToString();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal sealed class Collecting : IRunObserver
    {
        public ConcurrentQueue<ResourceOutcome> Seen { get; } = new();
        public void ResourceFinished(ResourceOutcome outcome) => Seen.Enqueue(outcome);
    }
}
