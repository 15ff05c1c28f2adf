using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// Ctrl-C and SIGTERM as they reach a real converge process: at the worst moment (right after the
/// running resource started its child), while waiting for the run lock, and twice.
/// </summary>
public partial class InterruptTests
{
    private const int SIGINT = 2;
    private const int SIGTERM = 15;
    private const string Acknowledged = "interrupted: letting the running resource finish";

    // kill(2) directly: starting /bin/kill would add milliseconds between the child starting and the
    // signal, and those milliseconds are where the bug lived.
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static void Send(Process process, int signal)
        => Kill(process.Id, signal).ShouldBe(0, $"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>
    /// A signal a few milliseconds after converge started a resource's child used to kill converge with
    /// the default action (no report), because System.CommandLine registered its handler only after the
    /// command's first await. Repeated, since before the fix it failed nearly every time but not always.
    /// </summary>
    [Theory]
    [InlineData(SIGINT)]
    [InlineData(SIGTERM)]
    public async Task Signal_RightAfterTheChildStarts_IsHandled_EveryTime(int signal)
    {
        for (var i = 0; i < 10; i++)
        {
            using var dir = new TempDir();
            using var state = new TempDir();
            using var run = StartSlowApply(dir, state);
            var stdout = run.StandardOutput.ReadToEndAsync();
            SpinWait.SpinUntil(() => File.Exists(dir["slow-started"]), TimeSpan.FromSeconds(60)).ShouldBeTrue("exec[slow] never started");
            Send(run, signal);
            // Release the resource only once converge said it saw the signal, so the signal surely came while
            // it ran. Killed by the signal instead, converge closes stderr without saying it.
            var acknowledged = WaitForAcknowledgement(run);
            File.WriteAllText(dir["release"], "");
            var rest = await run.StandardError.ReadToEndAsync();
            run.WaitForExit(20_000).ShouldBeTrue();
            SpinWait.SpinUntil(() => File.Exists(dir["slow-done"]), TimeSpan.FromSeconds(10)); // a child converge left behind ends too

            acknowledged.ShouldBeTrue($"iteration {i}: converge never acknowledged the signal (exit {run.ExitCode})");
            run.ExitCode.ShouldBe(6, $"iteration {i}: {rest}");
            var report = JsonNode.Parse(await stdout)!;
            ((bool)report["interrupted"]!).ShouldBeTrue();
            ((string)report["resources"]![0]!["status"]!).ShouldBe("changed");
            ((string)report["resources"]![1]!["status"]!).ShouldBe("skipped");
            File.Exists(dir["after-done"]).ShouldBeFalse();
        }
    }

    [Fact]
    public async Task SecondSignal_StopsAtOnce_WithoutAReport()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        using var run = StartSlowApply(dir, state);
        var stdout = run.StandardOutput.ReadToEndAsync();
        try
        {
            SpinWait.SpinUntil(() => File.Exists(dir["slow-started"]), TimeSpan.FromSeconds(60)).ShouldBeTrue("exec[slow] never started");
            Send(run, SIGINT);
            WaitForAcknowledgement(run).ShouldBeTrue("converge never acknowledged the first interrupt");
            Send(run, SIGTERM);
            var error = await run.StandardError.ReadToEndAsync();

            // It does not wait for the running resource: that is still blocked on the release file.
            run.WaitForExit(10_000).ShouldBeTrue("converge did not stop on the second signal");
            File.Exists(dir["slow-done"]).ShouldBeFalse();
            run.ExitCode.ShouldBe(128 + SIGTERM); // ended by the signal's default action
            error.ShouldContain("interrupted again (SIGTERM): stopping now");
            (await stdout).ShouldBeEmpty();
            Directory.Exists(state["reports"]).ShouldBeFalse();
        }
        finally
        {
            // The resource's shell outlives converge; let it finish before the directories go.
            File.WriteAllText(dir["release"], "");
            SpinWait.SpinUntil(() => File.Exists(dir["slow-done"]), TimeSpan.FromSeconds(10));
            run.WaitForExit(10_000);
        }
    }

    [Fact]
    public async Task Interrupt_WhileWaitingForTheRunLock_ChangesNothing()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        var manifest = dir.Write("m.yaml", $"resources:\n  - file: {dir["x"]}\n    content: \"x\\n\"\n");
        var lockPath = state["converge.lock"];
        using var held = Machine.RunLock.Acquire(lockPath, TimeSpan.Zero, CancellationToken.None);
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "apply", manifest, "--state-dir", state.Path, "--lock-timeout", "60" }) psi.ArgumentList.Add(a);
        using var run = Process.Start(psi)!;
        var stderr = run.StandardError.ReadToEndAsync();
        // It is waiting once it holds the lock file open (it opens it, then polls for the lock).
        SpinWait.SpinUntil(() => HasOpen(run.Id, lockPath), TimeSpan.FromSeconds(60)).ShouldBeTrue("converge never opened the lock file");
        Send(run, SIGINT);
        run.WaitForExit(20_000).ShouldBeTrue();

        var error = await stderr;
        run.ExitCode.ShouldBe(4, error);
        error.ShouldContain("interrupted while waiting for the run lock; nothing was changed");
        File.Exists(dir["x"]).ShouldBeFalse();
    }

    /// <summary>Reads stderr up to converge's line saying it saw the interrupt; false if stderr ended first.</summary>
    private static bool WaitForAcknowledgement(Process run)
    {
        string? line;
        while ((line = run.StandardError.ReadLine()) is not null)
            if (line.Contains(Acknowledged)) return true;
        return false;
    }

    private static bool HasOpen(int pid, string path)
    {
        try
        {
            return Directory.EnumerateFiles($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget == path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // an fd closed while we looked
        }
    }

    /// <summary>
    /// Starts <c>converge apply --json</c> on exec[slow] (touches slow-started, waits for the release
    /// file, touches slow-done) and exec[after], which requires it.
    /// </summary>
    private static Process StartSlowApply(TempDir dir, TempDir state)
    {
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - exec: slow
                command: "touch {dir["slow-started"]}; while [ ! -e {dir["release"]} ]; do sleep 0.05; done; touch {dir["slow-done"]}"
                creates: {dir["slow-done"]}
              - exec: after
                command: "touch {dir["after-done"]}"
                creates: {dir["after-done"]}
                require: exec[slow]
            """);
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "apply", manifest, "--state-dir", state.Path, "--json" }) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
