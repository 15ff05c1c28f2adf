using System.Diagnostics;

namespace Converge.Machine.Tests;

public sealed class RunLockTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string LockPath => _temp.Combine("converge.lock");

    [Fact]
    public void Acquire_Free_WritesOwnPidAndReleaseClearsIt()
    {
        using (RunLock.Acquire(LockPath, TimeSpan.Zero, CancellationToken.None))
        {
            Run.Output("cat", LockPath).ShouldBe($"{Environment.ProcessId}");
            RunLock.ReadHolderPid(LockPath).ShouldBe(Environment.ProcessId);
        }

        Run.Output("cat", LockPath).ShouldBe("");
        RunLock.ReadHolderPid(LockPath).ShouldBeNull();
        Run.Output("stat", "-c", "%a", LockPath).ShouldBe("644");
    }

    [Fact]
    public void Acquire_HeldByOtherProcess_TimesOutNamingHolderPid()
    {
        using var holder = StartFlockHolder(out var pid);

        var started = Stopwatch.StartNew();
        var e = Should.Throw<RunLockTimeoutException>(() => RunLock.Acquire(LockPath, TimeSpan.FromMilliseconds(300), CancellationToken.None));

        started.Elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(290));
        e.HolderPid.ShouldBe(pid);
        e.Message.ShouldBe($"another converge run (pid {pid}) holds {LockPath}; waited 0.3 s");
    }

    [Fact]
    public void Acquire_HolderExitsWhileWaiting_Succeeds()
    {
        using var holder = StartFlockHolder(out _);
        _ = Task.Delay(200).ContinueWith(_ => holder.Kill());

        using var held = RunLock.Acquire(LockPath, TimeSpan.FromSeconds(20), CancellationToken.None);

        RunLock.ReadHolderPid(LockPath).ShouldBe(Environment.ProcessId);
    }

    [Fact]
    public void Acquire_Held_OtherProcessCannotLockUntilReleased()
    {
        var held = RunLock.Acquire(LockPath, TimeSpan.Zero, CancellationToken.None);

        Run.ExitCode("flock", "--nonblock", LockPath, "true").ShouldBe(1);
        held.Dispose();
        Run.ExitCode("flock", "--nonblock", LockPath, "true").ShouldBe(0);
    }

    [Fact]
    public void Acquire_HeldInSameProcess_SecondAcquireTimesOut()
    {
        using var first = RunLock.Acquire(LockPath, TimeSpan.Zero, CancellationToken.None);

        var e = Should.Throw<RunLockTimeoutException>(() => RunLock.Acquire(LockPath, TimeSpan.Zero, CancellationToken.None));

        e.HolderPid.ShouldBe(Environment.ProcessId);
    }

    [Fact]
    public void Acquire_CancelledWhileWaiting_ThrowsOperationCanceled()
    {
        using var first = RunLock.Acquire(LockPath, TimeSpan.Zero, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        Should.Throw<OperationCanceledException>(() => RunLock.Acquire(LockPath, TimeSpan.FromSeconds(30), cts.Token));
    }

    /// <summary>util-linux flock holds the lock while a shell writes its pid into the file and sleeps.</summary>
    private Holder StartFlockHolder(out int pid)
    {
        var psi = new ProcessStartInfo("flock") { RedirectStandardOutput = true };
        foreach (var a in new[] { LockPath, "/bin/sh", "-c", $"echo $$ > {LockPath}; exec sleep 60" }) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        for (var i = 0; i < 200; i++)
        {
            if (RunLock.ReadHolderPid(LockPath) is { } holder)
            {
                pid = holder;
                return new Holder(process);
            }
            Thread.Sleep(20);
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("flock holder did not start");
    }

    /// <summary>The holder process, killed (with its children) on dispose so no test leaves it running.</summary>
    private sealed class Holder(Process process) : IDisposable
    {
        public void Kill()
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }

        public void Dispose()
        {
            Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }
}
