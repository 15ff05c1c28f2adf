using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Converge.Machine.Native;

namespace Converge.Machine;

/// <summary>
/// Runs an argv directly (never through a shell) and captures its output. Used by
/// <see cref="LocalSystem.RunAsync"/>; separate so the process rules live in one place.
/// </summary>
public sealed class ProcessRunner
{
    /// <summary>The exit code reported for a process killed on timeout, as coreutils <c>timeout</c> does.</summary>
    public const int TimedOutExitCode = 124;

    /// <summary>Where <c>setpriv</c> (util-linux) lives on Debian; used to run as another user and to set the parent-death signal.</summary>
    public const string SetprivPath = "/usr/bin/setpriv";

    /// <summary>Where <c>setsid</c> (util-linux) lives on Debian; starts every child in a session of its own.</summary>
    public const string SetsidPath = "/usr/bin/setsid";

    // After the process exits, output still open is held by a descendant that went to the background
    // (a daemon that did not close its fds); waiting for it would hang the run, so wait this long only.
    private static readonly TimeSpan OutputDrainGrace = TimeSpan.FromSeconds(2);
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private readonly IUserDatabase _users;

    /// <summary>A runner resolving <see cref="ProcessSpec.User"/> through <paramref name="users"/>.</summary>
    public ProcessRunner(IUserDatabase users) => _users = users;

    /// <summary>
    /// Runs <paramref name="spec"/> and returns its exit code and output. A non-zero exit is a result,
    /// not an exception. On timeout the process and its descendants are killed and the result has
    /// <see cref="ProcessResult.TimedOut"/> set (exit code <see cref="TimedOutExitCode"/>). On
    /// cancellation they are killed and <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    /// <exception cref="FileNotFoundException">argv[0] is not an executable file (searched in PATH when it has no '/').</exception>
    /// <exception cref="UnauthorizedAccessException">Another user was asked for and this process is not root.</exception>
    /// <exception cref="DirectoryNotFoundException">The working directory does not exist.</exception>
    /// <exception cref="ArgumentException">The argv is empty, or the user does not exist.</exception>
    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct)
    {
        if (spec.Argv.Count == 0) throw new ArgumentException("a process needs at least argv[0]", nameof(spec));
        ct.ThrowIfCancellationRequested();
        // Checked here because Process.Start reports a bad directory as if the program were missing.
        if (spec.WorkingDirectory is { } cwd && !Directory.Exists(cwd))
            throw new DirectoryNotFoundException($"cannot run {spec.Argv[0]} in {cwd}: no such directory");

        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = Utf8NoBom,
            StandardOutputEncoding = Utf8NoBom,
            StandardErrorEncoding = Utf8NoBom,
            WorkingDirectory = spec.WorkingDirectory ?? "",
        };
        if (spec.Environment is not null)
            foreach (var (name, value) in spec.Environment) psi.Environment[name] = value;

        var executable = ResolveExecutable(spec.Argv[0], psi.Environment.TryGetValue("PATH", out var p) ? p : null);
        var argv = Detached(spec.User is null ? [] : AsUser(spec, psi), [executable, .. spec.Argv.Skip(1)]);
        psi.FileName = argv[0];
        foreach (var arg in argv.Skip(1)) psi.ArgumentList.Add(arg);

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        try
        {
            await Spawner.StartAsync(process).ConfigureAwait(false);
        }
        catch (Win32Exception e)
        {
            throw new FileNotFoundException($"cannot run {spec.Argv[0]}: {e.Message}", spec.Argv[0], e);
        }

        var stdout = new OutputCapture(process.StandardOutput);
        var stderr = new OutputCapture(process.StandardError);
        var stdin = WriteInputAsync(process.StandardInput, spec.StandardInput);

        using var timeout = spec.Timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ct);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            timedOut = true;
        }

        await stdin.ConfigureAwait(false);
        var output = await stdout.CompleteAsync(OutputDrainGrace).ConfigureAwait(false);
        var error = await stderr.CompleteAsync(OutputDrainGrace).ConfigureAwait(false);
        return new ProcessResult(timedOut ? TimedOutExitCode : process.ExitCode, output, error, timedOut, clock.Elapsed);
    }

    /// <summary>
    /// The argv that starts <paramref name="command"/> detached from converge's terminal signals:
    /// <c>setpriv [user options] --pdeathsig KILL -- setsid --wait -- command…</c>. .NET's Process has no
    /// hook between fork and exec, so these steps happen in util-linux helpers that exec the real program
    /// (same pid, nothing stays between: setsid forks only when started as a group leader, which a fresh
    /// child never is; <c>--wait</c> keeps the exit status right if it ever did).
    /// <list type="bullet">
    /// <item>setsid: a session and process group of its own, so Ctrl-C in a terminal (SIGINT to the
    /// whole foreground group) and a terminal hangup reach converge alone, and converge decides: the
    /// running resource finishes, the rest are skipped.</item>
    /// <item>--pdeathsig KILL: out of the terminal's reach, a child would outlive a converge that is
    /// killed hard (SIGKILL, a second Ctrl-C, a crash) unnoticed, with no timeout left to end it. The
    /// kernel kills it instead when the thread that started it dies, which is why
    /// <see cref="Spawner"/> starts every child from one thread that lives as long as converge.
    /// Only the direct child gets the signal: what it started itself lives on until it ends.</item>
    /// </list>
    /// Where the helpers are missing (not Debian), the command runs as before, in converge's group.
    /// </summary>
    private static string[] Detached(string[] userOptions, string[] command)
    {
        if (!HelpersPresent) return userOptions.Length == 0 ? command : [SetprivPath, .. userOptions, "--", .. command];
        return [SetprivPath, .. userOptions, "--pdeathsig", "KILL", "--", SetsidPath, "--wait", "--", .. command];
    }

    private static readonly bool HelpersPresent = File.Exists(SetprivPath) && File.Exists(SetsidPath);

    /// <summary>
    /// setpriv's options that switch to <see cref="ProcessSpec.User"/> (setuid/setgid/initgroups), or
    /// none when that user is the current one. HOME, USER and LOGNAME are set for the target user (the
    /// rest of the environment is inherited, so the spec's overrides still apply).
    /// </summary>
    private string[] AsUser(ProcessSpec spec, ProcessStartInfo psi)
    {
        var user = spec.User!;
        var account = _users.Account(user) ?? throw new ArgumentException($"cannot run {spec.Argv[0]} as {user}: no such user", nameof(spec));
        var name = _users.UserName(account.Uid) ?? user;
        psi.Environment["HOME"] = account.Home;
        psi.Environment["USER"] = name;
        psi.Environment["LOGNAME"] = name;
        if (spec.Environment is not null)
            foreach (var key in new[] { "HOME", "USER", "LOGNAME" })
                if (spec.Environment.TryGetValue(key, out var v)) psi.Environment[key] = v;

        if (LibC.GetEuid() != 0)
        {
            if (account.Uid == (int)LibC.GetEuid()) return [];
            throw new UnauthorizedAccessException($"cannot run {spec.Argv[0]} as {user}: only root can run a process as another user");
        }
        if (!File.Exists(SetprivPath))
            throw new FileNotFoundException($"cannot run {spec.Argv[0]} as {user}: {SetprivPath} (util-linux) is missing", SetprivPath);
        return
        [
            $"--reuid={account.Uid.ToString(CultureInfo.InvariantCulture)}",
            $"--regid={account.Gid.ToString(CultureInfo.InvariantCulture)}",
            "--init-groups",
        ];
    }

    /// <summary>
    /// Finds argv[0] the way execvp would, so a missing program is reported as such before anything
    /// runs (through setpriv it would otherwise surface only as an exit code).
    /// </summary>
    private static string ResolveExecutable(string program, string? pathOverride)
    {
        if (program.Contains('/'))
            return IsExecutableFile(program) ? program : throw NotFound(program);
        var search = pathOverride ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var directory in search.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Join(directory, program);
            if (IsExecutableFile(candidate)) return candidate;
        }
        throw NotFound(program);
    }

    private static bool IsExecutableFile(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && (info.UnixFileMode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }

    private static FileNotFoundException NotFound(string program) =>
        new($"cannot run {program}: no such executable file", program);

    private static async Task WriteInputAsync(StreamWriter stdin, string? text)
    {
        try
        {
            if (text is not null) await stdin.WriteAsync(text).ConfigureAwait(false);
            stdin.Close();
        }
        catch (IOException)
        {
            // The process exited (or closed stdin) without reading all of it: that is its choice.
        }
    }

    /// <summary>
    /// Kills the child's process group (it leads one of its own, see <see cref="Detached"/>), which
    /// also reaches descendants whose parent already exited, then every descendant still found by
    /// parentage (one that started a group of its own).
    /// </summary>
    private static void KillTree(Process process)
    {
        try
        {
            if (HelpersPresent) LibC.Kill(-process.Id, LibC.SIGKILL);
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
    }

    /// <summary>
    /// Starts every child from one dedicated thread. The parent-death signal fires when the thread that
    /// forked the child ends, not the process; a thread-pool thread is retired after a while idle, which
    /// would kill a long install half way. This thread lives as long as converge.
    /// </summary>
    private static class Spawner
    {
        private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Queue = new();

        static Spawner()
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = "converge-spawner" };
            thread.Start();
        }

        public static Task StartAsync(Process process)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Queue.Add((process, started));
            return started.Task;
        }

        private static void Loop()
        {
            foreach (var (process, started) in Queue.GetConsumingEnumerable())
            {
                try
                {
                    process.Start();
                    started.SetResult();
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        }
    }
}
