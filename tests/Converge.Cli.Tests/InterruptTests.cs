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
    private const int SIGKILL = 9;
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

    /// <summary>
    /// Ctrl-C in a terminal: SIGINT to converge's whole process group. The running command is in a
    /// group of its own, so it does not get it: it finishes, the rest is skipped, the report is written.
    /// </summary>
    [Fact]
    public async Task SigintToTheWholeProcessGroup_RunningExecFinishes()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        // setsid makes converge lead a group of its own, so signalling that group cannot reach this test.
        using var run = StartSlowApply(dir, state, launcher: "/usr/bin/setsid");
        var stdout = run.StandardOutput.ReadToEndAsync();
        SpinWait.SpinUntil(() => File.Exists(dir["slow-started"]), TimeSpan.FromSeconds(60)).ShouldBeTrue("exec[slow] never started");
        ProcessGroupOf(run.Id).ShouldBe(run.Id);

        Kill(-run.Id, SIGINT).ShouldBe(0, $"killpg failed: errno {Marshal.GetLastPInvokeError()}");
        var acknowledged = WaitForAcknowledgement(run);
        File.WriteAllText(dir["release"], "");
        var rest = await run.StandardError.ReadToEndAsync();
        run.WaitForExit(20_000).ShouldBeTrue();

        acknowledged.ShouldBeTrue($"converge never acknowledged the signal (exit {run.ExitCode})");
        run.ExitCode.ShouldBe(6, rest);
        File.Exists(dir["slow-done"]).ShouldBeTrue("the running command finished");
        var report = JsonNode.Parse(await stdout)!;
        ((bool)report["interrupted"]!).ShouldBeTrue();
        ((string)report["resources"]![0]!["status"]!).ShouldBe("changed");
        ((string)report["resources"]![1]!["status"]!).ShouldBe("skipped");
        File.Exists(dir["after-done"]).ShouldBeFalse();
    }

    /// <summary>
    /// Out of the terminal's reach, a command would outlive a converge killed hard, with nothing left to
    /// time it out. The kernel kills it with converge (parent-death signal).
    /// </summary>
    [Fact]
    public void ConvergeKilledHard_RunningCommandIsKilledToo()
    {
        using var dir = new TempDir();
        using var state = new TempDir();
        using var run = StartSlowApply(dir, state);
        string? shell = null;
        try
        {
            SpinWait.SpinUntil(() => File.Exists(dir["slow-started"]), TimeSpan.FromSeconds(60)).ShouldBeTrue("exec[slow] never started");
            shell = File.ReadAllText(dir["slow-started"]).Trim();
            IsAlive(shell).ShouldBeTrue();

            Send(run, SIGKILL);
            run.WaitForExit(10_000).ShouldBeTrue();

            SpinWait.SpinUntil(() => !IsAlive(shell), TimeSpan.FromSeconds(10)).ShouldBeTrue("the command outlived converge");
            File.Exists(dir["slow-done"]).ShouldBeFalse();
        }
        finally
        {
            // Should the command have survived, release it and let it end before the directory goes.
            File.WriteAllText(dir["release"], "");
            if (shell is not null) SpinWait.SpinUntil(() => !IsAlive(shell), TimeSpan.FromSeconds(10));
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
            // The resource's shell dies with converge; should it not, release it and let it end before the directories go.
            File.WriteAllText(dir["release"], "");
            if (File.Exists(dir["slow-started"])) SpinWait.SpinUntil(() => !IsAlive(File.ReadAllText(dir["slow-started"]).Trim()), TimeSpan.FromSeconds(10));
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

    /// <summary>Field 5 of /proc/PID/stat.</summary>
    private static int ProcessGroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2]);
    }

    /// <summary>Running or sleeping; a zombie waiting for init to reap it is dead.</summary>
    private static bool IsAlive(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
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
    /// Starts <c>converge apply --json</c> on exec[slow] (writes its shell's pid to slow-started, waits for the release
    /// file, touches slow-done) and exec[after], which requires it.
    /// </summary>
    private static Process StartSlowApply(TempDir dir, TempDir state, string? launcher = null)
    {
        var manifest = dir.Write("m.yaml", $"""
            resources:
              - exec: slow
                command: "echo $$ > {dir["slow-started"]}.tmp && mv {dir["slow-started"]}.tmp {dir["slow-started"]}; while [ ! -e {dir["release"]} ]; do sleep 0.05; done; touch {dir["slow-done"]}"
                creates: {dir["slow-done"]}
              - exec: after
                command: "touch {dir["after-done"]}"
                creates: {dir["after-done"]}
                require: exec[slow]
            """);
        var psi = new ProcessStartInfo(launcher ?? ConvergeProcess.ExecutablePath) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (launcher is not null) psi.ArgumentList.Add(ConvergeProcess.ExecutablePath);
        foreach (var a in new[] { "apply", manifest, "--state-dir", state.Path, "--json" }) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
