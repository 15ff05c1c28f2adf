using Converge.Agent;
using Microsoft.Extensions.Time.Testing;

namespace Converge.Agent.Tests;

/// <summary>The timer logic, driven by a fake clock: no test here waits for real time.</summary>
public class ScheduleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(30);

    [Fact]
    public async Task WaitAsync_IntervalPasses_WakesForTimer()
    {
        var time = new FakeTimeProvider();
        var schedule = new AgentSchedule(Interval, TimeSpan.Zero, time, new Random(1));
        var wait = schedule.WaitAsync(schedule.NextDelay(), CancellationToken.None);
        time.Advance(Interval - TimeSpan.FromSeconds(1));
        await Task.Delay(20);
        wait.IsCompleted.ShouldBeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        (await wait.WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe(WakeReason.Timer);
    }

    [Fact]
    public async Task WaitAsync_Triggered_WakesAtOnce()
    {
        var time = new FakeTimeProvider();
        var schedule = new AgentSchedule(Interval, TimeSpan.Zero, time, new Random(1));
        var wait = schedule.WaitAsync(Interval, CancellationToken.None);
        await Task.Delay(20);
        wait.IsCompleted.ShouldBeFalse();
        schedule.Trigger();
        (await wait.WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe(WakeReason.Triggered);
    }

    [Fact]
    public async Task Trigger_ManyDuringARun_CoalesceIntoOneImmediateCycle()
    {
        var time = new FakeTimeProvider();
        var schedule = new AgentSchedule(Interval, TimeSpan.Zero, time, new Random(1));
        // Three SIGHUPs while a cycle runs (nobody waiting yet).
        schedule.Trigger();
        schedule.Trigger();
        schedule.Trigger();
        (await schedule.WaitAsync(Interval, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe(WakeReason.Triggered);
        // The next wait is a full interval again: the three were one request.
        var next = schedule.WaitAsync(Interval, CancellationToken.None);
        await Task.Delay(20);
        next.IsCompleted.ShouldBeFalse();
        time.Advance(Interval);
        (await next.WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe(WakeReason.Timer);
    }

    [Fact]
    public async Task WaitAsync_Stopped_ReturnsStoppingWithoutThrowing()
    {
        var time = new FakeTimeProvider();
        var schedule = new AgentSchedule(Interval, TimeSpan.Zero, time, new Random(1));
        using var stop = new CancellationTokenSource();
        var wait = schedule.WaitAsync(Interval, stop.Token);
        stop.Cancel();
        (await wait.WaitAsync(TimeSpan.FromSeconds(5))).ShouldBe(WakeReason.Stopping);
    }

    [Fact]
    public void NextDelay_WithSplay_StaysWithinIntervalPlusMinusSplayAndVaries()
    {
        var splay = TimeSpan.FromMinutes(5);
        var schedule = new AgentSchedule(Interval, splay, new FakeTimeProvider(), new Random(42));
        var delays = Enumerable.Range(0, 1000).Select(_ => schedule.NextDelay()).ToList();
        delays.ShouldAllBe(d => d >= Interval - splay && d <= Interval + splay);
        delays.Min().ShouldBeLessThan(Interval - TimeSpan.FromMinutes(4));
        delays.Max().ShouldBeGreaterThan(Interval + TimeSpan.FromMinutes(4));
    }

    [Fact]
    public void NextDelay_SplayLargerThanInterval_NeverNegative()
    {
        var schedule = new AgentSchedule(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), new FakeTimeProvider(), new Random(7));
        Enumerable.Range(0, 1000).Select(_ => schedule.NextDelay()).ShouldAllBe(d => d >= TimeSpan.Zero);
    }

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("90s", 90)]
    [InlineData("1.5h", 5400)]
    [InlineData("2d", 172800)]
    [InlineData("45", 45)]
    public void Durations_Parse_AcceptsUnits(string text, double seconds)
    {
        Durations.TryParse(text, out var t).ShouldBeTrue();
        t.TotalSeconds.ShouldBe(seconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5x")]
    [InlineData("-1m")]
    [InlineData("m")]
    public void Durations_Parse_RejectsNonsense(string text) => Durations.TryParse(text, out _).ShouldBeFalse();
}
