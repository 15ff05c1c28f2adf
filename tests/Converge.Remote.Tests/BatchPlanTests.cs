using Converge.Remote;

namespace Converge.Remote.Tests;

public class BatchPlanTests
{
    [Theory]
    [InlineData(10, null, new[] { 10 })]
    [InlineData(10, "1,25%,100%", new[] { 1, 3, 6 })]
    [InlineData(10, "1", new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(10, "2,50%", new[] { 2, 5, 3 })]
    [InlineData(7, "30%", new[] { 3, 3, 1 })]
    [InlineData(3, "1,100%", new[] { 1, 2 })]
    [InlineData(1, "5,10", new[] { 1 })]
    [InlineData(3, "1%", new[] { 1, 1, 1 })]
    [InlineData(0, "1", new int[0])]
    public void Waves_Spec_GivesSizes(int hosts, string? spec, int[] expected)
    {
        var waves = BatchPlan.Waves(hosts, spec);
        waves.ShouldBe(expected);
        waves.Sum().ShouldBe(hosts);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1,,2")]
    [InlineData("-1")]
    [InlineData("150%")]
    [InlineData("a")]
    [InlineData("1.5")]
    public void ParseSpec_Invalid_Throws(string spec)
    {
        var e = Should.Throw<FormatException>(() => BatchPlan.ParseSpec(spec));
        e.Message.ShouldStartWith("--batch: '");
    }

    [Theory]
    [InlineData("0", 10, 0)]
    [InlineData("2", 10, 2)]
    [InlineData("10%", 10, 1)]
    [InlineData("25%", 10, 2)]
    [InlineData("9%", 10, 0)]
    [InlineData("100%", 7, 7)]
    public void ParseMaxFail_CountOrPercent_GivesBudget(string text, int hosts, int budget) =>
        BatchPlan.ParseMaxFail(text).Budget(hosts).ShouldBe(budget);

    [Theory]
    [InlineData("-1")]
    [InlineData("x%")]
    [InlineData("101%")]
    public void ParseMaxFail_Invalid_Throws(string text) =>
        Should.Throw<FormatException>(() => BatchPlan.ParseMaxFail(text)).Message.ShouldStartWith("--max-fail: '");
}

public class FleetRunnerTests
{
    private static InventoryHost Host(string name) => new(name, name, 22, "root", null, false, [], new());

    [Fact]
    public async Task RunAsync_FailedCanaryBeyondMaxFail_LaterWavesNotStarted()
    {
        var hosts = Enumerable.Range(1, 6).Select(i => Host($"h{i}")).ToList();
        var started = new List<string>();
        var runner = new FleetRunner(new FleetOptions { Batch = "1,50%", MaxFail = BatchPlan.ParseMaxFail("0") });
        var (results, stopped) = await runner.RunAsync(hosts, h =>
        {
            lock (started) started.Add(h.Name);
            return Task.FromResult(new HostResult(h, h.Name == "h1" ? HostStatus.Failed : HostStatus.Ok, TimeSpan.Zero));
        }, CancellationToken.None);
        started.ShouldBe(["h1"]);
        results.Select(r => r.Status).ShouldBe([HostStatus.Failed, .. Enumerable.Repeat(HostStatus.NotStarted, 5)]);
        stopped.ShouldBe("1 host failed, more than --max-fail 0 allows; later waves not started");
        FleetRunner.ExitCode(results).ShouldBe(4);
    }

    [Fact]
    public async Task RunAsync_FailuresWithinBudget_AllWavesRunAndOthersUnaffected()
    {
        var hosts = Enumerable.Range(1, 5).Select(i => Host($"h{i}")).ToList();
        var runner = new FleetRunner(new FleetOptions { Batch = "2", MaxFail = BatchPlan.ParseMaxFail("1"), Parallel = 2 });
        var (results, stopped) = await runner.RunAsync(hosts, h =>
            Task.FromResult(new HostResult(h, h.Name == "h2" ? HostStatus.Unreachable : HostStatus.Changed, TimeSpan.Zero) { Changed = h.Name == "h2" ? 0 : 1 }),
            CancellationToken.None);
        stopped.ShouldBeNull();
        results.Select(r => r.Status).ShouldBe([HostStatus.Changed, HostStatus.Unreachable, HostStatus.Changed, HostStatus.Changed, HostStatus.Changed]);
        FleetRunner.ExitCode(results).ShouldBe(6);
    }

    [Fact]
    public async Task RunAsync_Parallel_NeverExceedsLimit()
    {
        var hosts = Enumerable.Range(1, 8).Select(i => Host($"h{i}")).ToList();
        int running = 0, peak = 0;
        var (results, _) = await new FleetRunner(new FleetOptions { Parallel = 3 }).RunAsync(hosts, async h =>
        {
            var now = Interlocked.Increment(ref running);
            lock (hosts) peak = Math.Max(peak, now);
            await Task.Delay(30);
            Interlocked.Decrement(ref running);
            return new HostResult(h, HostStatus.Ok, TimeSpan.Zero);
        }, CancellationToken.None);
        peak.ShouldBe(3);
        FleetRunner.ExitCode(results).ShouldBe(0);
    }

    [Fact]
    public async Task RunAsync_Cancelled_StopsStartingHostsAndLetsRunningFinish()
    {
        var hosts = Enumerable.Range(1, 4).Select(i => Host($"h{i}")).ToList();
        using var cts = new CancellationTokenSource();
        var (results, stopped) = await new FleetRunner(new FleetOptions { Parallel = 1 }).RunAsync(hosts, async h =>
        {
            if (h.Name == "h2") cts.Cancel();
            await Task.Delay(20, CancellationToken.None);
            return new HostResult(h, HostStatus.Ok, TimeSpan.Zero);
        }, cts.Token);
        results.Select(r => r.Status).ShouldBe([HostStatus.Ok, HostStatus.Ok, HostStatus.NotStarted, HostStatus.NotStarted]);
        stopped.ShouldBe("interrupted");
    }
}
