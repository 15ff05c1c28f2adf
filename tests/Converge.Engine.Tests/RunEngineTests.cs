namespace Converge.Engine.Tests;

public class RunEngineTests
{
    [Fact]
    public async Task Run_FailingResource_SkipsOnlyItsDependents()
    {
        using var h = new EngineHarness().Add("a").Add("b", require: ["a"]).Add("c", require: ["b"]).Add("d");
        h.Provider.FailApply.Add("a");
        var r = await h.RunAsync();
        h.Status(r, "a").ShouldBe("Failed");
        h.Status(r, "b").ShouldBe("Skipped");
        h.Status(r, "c").ShouldBe("Skipped");
        h.Status(r, "d").ShouldBe("Changed");
        r.Outcomes.Single(o => o.Id.Title == "b").Message.ShouldBe("dependency scripted[a] failed");
        r.Outcomes.Single(o => o.Id.Title == "c").Message.ShouldBe("dependency scripted[b] was skipped");
        r.ExitCode.ShouldBe(ExitCodes.ChangesAndFailures);
    }

    [Fact]
    public async Task Run_Noop_ChangesNothingAndExitsTwo()
    {
        using var h = new EngineHarness().Add("a").Add("b", require: ["a"]);
        var r = await h.RunAsync(noop: true);
        r.Outcomes.Select(o => o.Status).ShouldBe([OutcomeStatus.WouldChange, OutcomeStatus.WouldChange]);
        h.Provider.Log.ShouldBeEmpty();
        h.Provider.State.ShouldBeEmpty();
        r.ExitCode.ShouldBe(ExitCodes.Changes);
    }

    [Fact]
    public async Task Run_NoopPredictsExactlyWhatApplyDoes()
    {
        using var h = new EngineHarness().Add("a").Add("b", value: "off").Add("c", require: ["a"]);
        h.Provider.State["b"] = "off";
        var plan = await h.RunAsync(noop: true);
        var applied = await h.RunAsync();
        plan.Outcomes.Where(o => o.IsChange).Select(o => (o.Id, string.Join(";", o.Changes)))
            .ShouldBe(applied.Outcomes.Where(o => o.IsChange).Select(o => (o.Id, string.Join(";", o.Changes))));
        var again = await h.RunAsync();
        again.ExitCode.ShouldBe(ExitCodes.Ok);
        again.Outcomes.ShouldAllBe(o => o.Status == OutcomeStatus.Unchanged);
    }

    [Fact]
    public async Task Run_NotifyingResourceChanged_RefreshesTarget()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"]).Add("svc");
        h.Provider.State["svc"] = "on";
        var r = await h.RunAsync();
        h.Provider.Log.ShouldBe(["apply conf", "refresh svc"]);
        var svc = r.Outcomes.Single(o => o.Id.Title == "svc");
        svc.Status.ShouldBe(OutcomeStatus.Changed);
        svc.Refreshed.ShouldBeTrue();
        svc.RefreshedBy.ShouldBe(["scripted[conf]"]);
    }

    [Fact]
    public async Task Run_TargetChangesToo_ItsChangeCoversTheRefresh()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"]).Add("svc");
        var plan = (await h.RunAsync(noop: true)).Outcomes.Single(o => o.Id.Title == "svc");
        plan.Refreshed.ShouldBeFalse();
        plan.RefreshChanges.ShouldBeEmpty();
        var r = await h.RunAsync();
        h.Provider.Log.ShouldBe(["apply conf", "apply svc"]);
        r.Outcomes.Single(o => o.Id.Title == "svc").Refreshed.ShouldBeFalse();
    }

    [Fact]
    public async Task Run_TargetChangesButTheChangeDoesNotCoverTheRefresh_RefreshFollowsTheChange()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"]).Add("svc");
        h.Provider.ChangesKeepRefresh.Add("svc");
        var plan = (await h.RunAsync(noop: true)).Outcomes.Single(o => o.Id.Title == "svc");
        plan.Changes.ShouldHaveSingleItem().Property.ShouldBe("value");
        plan.Refreshed.ShouldBeTrue();
        plan.RefreshChanges.ShouldHaveSingleItem().Argv.ShouldBe(["restart", "svc"]);
        var r = await h.RunAsync();
        h.Provider.Log.ShouldBe(["apply conf", "apply svc", "refresh svc"]);
        var svc = r.Outcomes.Single(o => o.Id.Title == "svc");
        svc.Status.ShouldBe(OutcomeStatus.Changed);
        svc.Refreshed.ShouldBeTrue();
        svc.RefreshChanges.ShouldHaveSingleItem().Argv.ShouldBe(["restart", "svc"]);
    }

    [Fact]
    public async Task Run_NotifyingResourceUnchanged_DoesNotRefresh()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"]).Add("svc");
        h.Provider.State["conf"] = "on";
        h.Provider.State["svc"] = "on";
        var r = await h.RunAsync();
        h.Provider.Log.ShouldBeEmpty();
        r.ExitCode.ShouldBe(ExitCodes.Ok);
    }

    [Fact]
    public async Task Run_NoopWithNotify_ShowsWouldRefresh()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"]).Add("svc");
        h.Provider.State["svc"] = "on";
        var r = await h.RunAsync(noop: true);
        var svc = r.Outcomes.Single(o => o.Id.Title == "svc");
        svc.Status.ShouldBe(OutcomeStatus.WouldChange);
        svc.Refreshed.ShouldBeTrue();
        svc.RefreshChanges.ShouldHaveSingleItem().Argv.ShouldBe(["restart", "svc"]);
        h.Provider.Log.ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_RefreshFailed_IsReplayedByNextRun()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"]).Add("svc");
        h.Provider.State["svc"] = "on";
        h.Provider.FailRefresh.Add("svc");
        var first = await h.RunAsync();
        h.Status(first, "svc").ShouldBe("Failed");

        h.Provider.FailRefresh.Clear();
        var second = await h.RunAsync();
        h.Status(second, "conf").ShouldBe("Unchanged");
        var svc = second.Outcomes.Single(o => o.Id.Title == "svc");
        svc.Status.ShouldBe(OutcomeStatus.Changed);
        svc.RefreshedBy.ShouldHaveSingleItem().ShouldStartWith("scripted[conf] (pending since run test)");

        var third = await h.RunAsync();
        third.ExitCode.ShouldBe(ExitCodes.Ok);
    }

    [Fact]
    public async Task Run_NoopDownstreamOfPendingChange_IsUnknownWhenReadDependsOnIt()
    {
        using var h = new EngineHarness().Add("pkg").Add("check", require: ["pkg"]).Add("plain", require: ["pkg"]);
        h.Provider.DependsOnUpstream.Add("check");
        var r = await h.RunAsync(noop: true);
        var check = r.Outcomes.Single(o => o.Id.Title == "check");
        check.Status.ShouldBe(OutcomeStatus.Unknown);
        check.Message.ShouldBe("depends on pending change to scripted[pkg]");
        h.Status(r, "plain").ShouldBe("WouldChange");
    }

    [Fact]
    public async Task Run_SensitiveProperty_IsRedactedAndSecretsScrubbed()
    {
        using var h = new EngineHarness().Add("s", value: "hunter2-password", secret: true).Add("f");
        h.Secrets.Add("secret-value-1234");
        h.Provider.FailApply.Add("f");
        var r = await h.RunAsync();
        var s = r.Outcomes.Single(o => o.Id.Title == "s");
        s.Changes.ShouldHaveSingleItem().To.ShouldBe("(redacted)");
        r.Outcomes.Single(o => o.Id.Title == "f").Message.ShouldBe("apply of f failed with (redacted) in the message");
    }

    [Fact]
    public async Task Run_ResourceMarkedNoop_IsOnlyPlannedInRealRun()
    {
        using var h = new EngineHarness().Add("a", noop: true).Add("b");
        var r = await h.RunAsync();
        h.Status(r, "a").ShouldBe("WouldChange");
        h.Status(r, "b").ShouldBe("Changed");
        h.Provider.State.ContainsKey("a").ShouldBeFalse();
    }

    [Fact]
    public async Task Run_NoopResourceThatWouldChange_DoesNotRefreshInRealRun()
    {
        using var h = new EngineHarness().Add("conf", notify: ["svc"], noop: true).Add("svc");
        h.Provider.State["svc"] = "on";
        var r = await h.RunAsync();
        h.Status(r, "conf").ShouldBe("WouldChange");
        h.Status(r, "svc").ShouldBe("Unchanged");
        h.Provider.Log.ShouldBeEmpty();
    }

    [Fact]
    public async Task Run_SameExclusiveKey_RunInOrderAndAFailureSkipsNothing()
    {
        using var h = new EngineHarness().Add("edit-2").Add("edit-1").Add("edit-3");
        foreach (var t in new[] { "edit-1", "edit-2", "edit-3" }) h.Provider.ExclusiveKeys[t] = "path:/etc/x";
        h.Provider.FailApply.Add("edit-2");
        var r = await h.RunAsync();
        h.Provider.Log.ShouldBe(["apply edit-1", "apply edit-2", "apply edit-3"]);
        h.Status(r, "edit-2").ShouldBe("Failed");
        h.Status(r, "edit-3").ShouldBe("Changed"); // ordered after the failure, not dependent on it
    }

    [Fact]
    public async Task Run_Cancelled_FinishesRunningResourceAndSkipsTheRest()
    {
        using var h = new EngineHarness().Add("a").Add("b", require: ["a"]);
        var gate = new TaskCompletionSource();
        h.Provider.Gates["a"] = gate;
        using var cts = new CancellationTokenSource();
        var running = h.RunAsync(ct: cts.Token);
        await Task.Delay(50);
        cts.Cancel();
        gate.SetResult();
        var r = await running;
        h.Status(r, "a").ShouldBe("Changed");
        h.Status(r, "b").ShouldBe("Skipped");
        r.Interrupted.ShouldBeTrue();
        r.ExitCode.ShouldBe(ExitCodes.ChangesAndFailures); // interrupted: not everything converged
    }
}
