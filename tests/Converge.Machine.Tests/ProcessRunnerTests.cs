namespace Converge.Machine.Tests;

public sealed class ProcessRunnerTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly LocalSystem _sys = new();

    public void Dispose() => _temp.Dispose();

    private Task<ProcessResult> RunAsync(ProcessSpec spec) => _sys.RunAsync(spec, CancellationToken.None);

    [Fact]
    public async Task RunAsync_Printf_CapturesStdoutAndZeroExit()
    {
        var result = await RunAsync(new ProcessSpec(["printf", "%s|", "a b", "$HOME", "*"]));

        result.ExitCode.ShouldBe(0);
        result.StandardOutput.ShouldBe("a b|$HOME|*|");
        result.TimedOut.ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_NonZeroExit_ReturnsCodeAndStderr()
    {
        var result = await RunAsync(new ProcessSpec(["/bin/sh", "-c", "echo out; echo oops >&2; exit 3"]));

        result.ExitCode.ShouldBe(3);
        result.StandardOutput.ShouldBe("out\n");
        result.StandardError.ShouldBe("oops\n");
        result.Tail().ShouldBe("oops");
    }

    [Fact]
    public async Task RunAsync_EnvironmentOverride_IsVisibleAndRestInherited()
    {
        var spec = new ProcessSpec(["/bin/sh", "-c", "echo \"$CONVERGE_TEST|$LANG_X\"; test -n \"$PATH\""])
        {
            Environment = new Dictionary<string, string> { ["CONVERGE_TEST"] = "yes", ["LANG_X"] = "C" },
        };

        var result = await RunAsync(spec);

        result.StandardOutput.ShouldBe("yes|C\n");
        result.ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task RunAsync_WorkingDirectory_IsUsed()
    {
        var result = await RunAsync(new ProcessSpec(["pwd"]) { WorkingDirectory = _temp.Path });

        result.StandardOutput.Trim().ShouldBe(_temp.Path);
    }

    [Fact]
    public async Task RunAsync_WorkingDirectoryMissing_ThrowsNamingIt()
    {
        var missing = _temp.Combine("gone");

        var e = await Should.ThrowAsync<DirectoryNotFoundException>(() => RunAsync(new ProcessSpec(["pwd"]) { WorkingDirectory = missing }));

        e.Message.ShouldBe($"cannot run pwd in {missing}: no such directory");
    }

    [Fact]
    public async Task RunAsync_StandardInput_IsPassedAndClosed()
    {
        var result = await RunAsync(new ProcessSpec(["cat"]) { StandardInput = "line 1\nline 2\n" });

        result.StandardOutput.ShouldBe("line 1\nline 2\n");
    }

    [Fact]
    public async Task RunAsync_NoStandardInput_ChildSeesEndOfFile()
    {
        var result = await RunAsync(new ProcessSpec(["cat"]) { Timeout = TimeSpan.FromSeconds(10) });

        result.TimedOut.ShouldBeFalse();
        result.StandardOutput.ShouldBe("");
    }

    [Fact]
    public async Task RunAsync_LargeOutputAndInput_DoesNotDeadlock()
    {
        var input = new string('x', 1_000_000);

        var result = await RunAsync(new ProcessSpec(["cat"]) { StandardInput = input, Timeout = TimeSpan.FromSeconds(20) });

        result.StandardOutput.Length.ShouldBe(input.Length);
    }

    [Fact]
    public async Task RunAsync_Timeout_KillsProcessTreeAndSetsTimedOut()
    {
        var pidFile = _temp.Combine("grandchild.pid");
        var spec = new ProcessSpec(["/bin/sh", "-c", $"sleep 60 & echo $! > {pidFile}; wait"])
        {
            Timeout = TimeSpan.FromMilliseconds(500),
        };

        var result = await RunAsync(spec);

        result.TimedOut.ShouldBeTrue();
        result.ExitCode.ShouldBe(ProcessRunner.TimedOutExitCode);
        result.Duration.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        var grandchild = File.ReadAllText(pidFile).Trim();
        await WaitUntilGoneAsync(grandchild);
        Directory.Exists($"/proc/{grandchild}").ShouldBeFalse();
    }

    [Fact]
    public async Task RunAsync_Timeout_AlsoKillsOrphansLeftInTheChildsGroup()
    {
        // The inner shell exits at once, so its sleep is no longer a descendant of the child: only the
        // process group the child leads still holds it.
        var pidFile = _temp.Combine("orphan.pid");
        var spec = new ProcessSpec(["/bin/sh", "-c", $"sh -c 'sleep 60 & echo $! > {pidFile}'; sleep 60"])
        {
            Timeout = TimeSpan.FromMilliseconds(700),
        };

        var result = await RunAsync(spec);

        result.TimedOut.ShouldBeTrue();
        var orphan = File.ReadAllText(pidFile).Trim();
        for (var i = 0; i < 100 && IsAlive(orphan); i++) await Task.Delay(50);
        IsAlive(orphan).ShouldBeFalse("the orphaned sleep outlived the timeout");
    }

    [Fact]
    public async Task RunAsync_Child_LeadsASessionOfItsOwn()
    {
        // Fields 1, 5 and 6 of /proc/PID/stat: pid, process group, session. A terminal's Ctrl-C goes to
        // converge's foreground group, which the child is not in.
        var result = await RunAsync(new ProcessSpec(["/bin/sh", "-c", "cut -d' ' -f1,5,6 /proc/$$/stat"]));

        var ids = result.StandardOutput.Trim().Split(' ');
        ids.Length.ShouldBe(3, result.StandardOutput);
        ids[1].ShouldBe(ids[0], "the child leads its process group");
        ids[2].ShouldBe(ids[0], "the child leads its session");
        var ours = File.ReadAllText("/proc/self/stat");
        ids[1].ShouldNotBe(ours[(ours.LastIndexOf(')') + 2)..].Split(' ')[2], "not converge's group");
    }

    [Fact]
    public async Task RunAsync_StartedFromAThreadThatEnds_ChildLivesOn()
    {
        // The parent-death signal follows the thread that forked the child: started from this short-lived
        // thread directly, the child would be killed as soon as the thread ends.
        Task<ProcessResult>? run = null;
        var thread = new Thread(() => run = RunAsync(new ProcessSpec(["/bin/sh", "-c", "sleep 0.5; echo lived"])));
        thread.Start();
        thread.Join();

        var result = await run!;

        (result.ExitCode, result.StandardOutput).ShouldBe((0, "lived\n"));
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsAndThrows()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;

        await Should.ThrowAsync<OperationCanceledException>(() => _sys.RunAsync(new ProcessSpec(["sleep", "60"]), cts.Token));

        (DateTime.UtcNow - started).ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task RunAsync_MissingExecutable_ThrowsFileNotFoundNamingIt()
    {
        var e = await Should.ThrowAsync<FileNotFoundException>(() => RunAsync(new ProcessSpec(["converge-no-such-tool", "x"])));

        e.Message.ShouldBe("cannot run converge-no-such-tool: no such executable file");
        e.FileName.ShouldBe("converge-no-such-tool");
    }

    [Fact]
    public async Task RunAsync_MissingAbsoluteExecutable_ThrowsFileNotFound()
    {
        await Should.ThrowAsync<FileNotFoundException>(() => RunAsync(new ProcessSpec([_temp.Combine("nope")])));
    }

    [Fact]
    public async Task RunAsync_AsNobody_RunsWithNobodyIdsAndHome()
    {
        var spec = new ProcessSpec(["/bin/sh", "-c", "id -u; id -g; echo $HOME $USER $LOGNAME"]) { User = "nobody" };

        var result = await RunAsync(spec);

        result.StandardError.ShouldBe("");
        result.StandardOutput.ShouldBe("65534\n65534\n/nonexistent nobody nobody\n");
    }

    [Fact]
    public async Task RunAsync_AsNumericUid_ResolvesAccount()
    {
        var result = await RunAsync(new ProcessSpec(["id", "-un"]) { User = "65534" });

        result.StandardOutput.Trim().ShouldBe("nobody");
    }

    [Fact]
    public async Task RunAsync_UnknownUser_Throws()
    {
        var e = await Should.ThrowAsync<ArgumentException>(() => RunAsync(new ProcessSpec(["true"]) { User = "converge-no-such-user" }));

        e.Message.ShouldStartWith("cannot run true as converge-no-such-user: no such user");
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

    private static async Task WaitUntilGoneAsync(string pid)
    {
        for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++) await Task.Delay(50);
    }
}
