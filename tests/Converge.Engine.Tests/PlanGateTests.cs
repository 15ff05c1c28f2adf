using System.Collections.Concurrent;
using Converge.Engine.Plans;

namespace Converge.Engine.Tests;

/// <summary>The engine's gate between read and apply (reviewed plans): what it sees, and what a refusal does.</summary>
public class PlanGateTests
{
    private sealed class Gate(Func<ReadResource, string?> decide) : IResourceGate
    {
        public ConcurrentDictionary<string, ReadResource> Seen { get; } = new();

        public string? Check(ReadResource read)
        {
            Seen[read.Id.Title] = read;
            return decide(read);
        }
    }

    [Fact]
    public async Task Refusal_FailsTheResourceWithoutApplying_SkipsDependents_OthersRun()
    {
        using var h = new EngineHarness();
        h.Add("a", "on").Add("b", "on", require: ["a"]).Add("c", "on");
        var gate = new Gate(r => r.Id.Title == "a" ? "not applied: differs from the plan" : null);

        var result = await h.RunAsync(gate: gate);

        h.Status(result, "a").ShouldBe("Failed");
        result.Outcomes.Single(o => o.Id.Title == "a").Message.ShouldBe("not applied: differs from the plan");
        h.Status(result, "b").ShouldBe("Skipped");
        h.Status(result, "c").ShouldBe("Changed");
        h.Provider.Log.ShouldBe(["apply c"]);
        h.Provider.State.ContainsKey("a").ShouldBeFalse();
    }

    [Fact]
    public async Task Gate_SeesActualAndChangesInClear_AndRedactedForShow_AndWhetherUpstreamChanged()
    {
        using var h = new EngineHarness();
        h.Add("a", "on").Add("b", "on", require: ["a"]).Add("s", "hunter2", secret: true);
        h.Provider.State["b"] = "on";
        var gate = new Gate(_ => null);

        var result = await h.RunAsync(noop: true, gate: gate);

        result.Outcomes.ShouldAllBe(o => o.Status != OutcomeStatus.Failed);
        gate.Seen["a"].Actual.ShouldBe("absent");
        gate.Seen["a"].AfterUpstreamChange.ShouldBeFalse();
        gate.Seen["b"].AfterUpstreamChange.ShouldBeTrue();
        gate.Seen["b"].Changes.ShouldBeEmpty();
        gate.Seen["s"].Changes.Single().To.ShouldBe("hunter2");
        gate.Seen["s"].Shown.Single().To.ShouldBe("(redacted)");
        h.Provider.Log.ShouldBeEmpty();
    }
}
