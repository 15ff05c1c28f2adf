using System.Collections.Concurrent;
using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;

namespace Converge.Engine.Tests;

/// <summary>
/// A provider whose "machine" is a dictionary and whose behaviour the test scripts: desired value,
/// failures in apply or refresh, hangs, reads that depend on upstream changes. It exercises the engine's
/// orchestration (order, isolation, refresh, journal, noop, cancellation) without any real resource.
/// </summary>
internal sealed class ScriptedProvider : ResourceProvider<ScriptedSpec, string>
{
    public ConcurrentDictionary<string, string> State { get; } = new();
    public ConcurrentQueue<string> Log { get; } = new();
    public HashSet<string> FailApply { get; } = [];
    public HashSet<string> FailRefresh { get; } = [];
    public HashSet<string> DependsOnUpstream { get; } = [];
    public Dictionary<string, TaskCompletionSource> Gates { get; } = new();
    public Dictionary<string, string> ExclusiveKeys { get; } = new();
    public HashSet<string> ChangesKeepRefresh { get; } = [];

    public override bool ChangesCoverRefresh(ScriptedSpec spec, IReadOnlyList<Change> changes) =>
        changes.Count > 0 && !ChangesKeepRefresh.Contains(spec.Id.Title);

    public override string? ExclusiveKey(ScriptedSpec spec) => ExclusiveKeys.GetValueOrDefault(spec.Id.Title);

    public override string Type => "scripted";
    public override IReadOnlyCollection<string> PropertyNames => ["value", "secret"];
    public override bool IsRefreshable => true;

    public override ScriptedSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var value = resource.Properties.TryGetValue("value", out var v) ? ((ScalarValue)v).Text : "on";
        var sensitive = resource.Properties.TryGetValue("secret", out var s) && s.Sensitive;
        return new ScriptedSpec
        {
            Id = resource.Id,
            Value = value,
            SensitiveProperties = sensitive ? new HashSet<string> { "value" } : new HashSet<string>(),
        };
    }

    public override bool ReadDependsOnUpstream(ScriptedSpec spec) => DependsOnUpstream.Contains(spec.Id.Title);

    public override async ValueTask<string> ReadAsync(ScriptedSpec spec, ProviderContext context, CancellationToken ct)
    {
        if (Gates.TryGetValue(spec.Id.Title, out var gate)) await gate.Task;
        return State.TryGetValue(spec.Id.Title, out var v) ? v : "absent";
    }

    public override IReadOnlyList<Change> Diff(ScriptedSpec spec, string actual)
        => actual == spec.Value ? [] : [new Change("value", actual, spec.Value)];

    public override ValueTask ApplyAsync(ScriptedSpec spec, string actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        Log.Enqueue("apply " + spec.Id.Title);
        if (FailApply.Contains(spec.Id.Title))
            throw new InvalidOperationException($"apply of {spec.Id.Title} failed with secret-value-1234 in the message");
        State[spec.Id.Title] = spec.Value;
        return ValueTask.CompletedTask;
    }

    public override IReadOnlyList<Change> PlanRefresh(ScriptedSpec spec) => [new Change("refresh", null, "restart", ["restart", spec.Id.Title])];

    public override ValueTask RefreshAsync(ScriptedSpec spec, ProviderContext context, CancellationToken ct)
    {
        Log.Enqueue("refresh " + spec.Id.Title);
        if (FailRefresh.Contains(spec.Id.Title)) throw new InvalidOperationException($"refresh of {spec.Id.Title} failed");
        return ValueTask.CompletedTask;
    }
}

internal sealed record ScriptedSpec : ResourceSpec
{
    public required string Value { get; init; }
}
