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

    /// <summary>Where <c>setpriv</c> (util-linux) lives on Debian; used to run as another user.</summary>
    public const string SetprivPath = "/usr/bin/setpriv";

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
        var argv = spec.User is null ? [executable, .. spec.Argv.Skip(1)] : AsUser(spec, executable, psi);
        psi.FileName = argv[0];
        foreach (var arg in argv.Skip(1)) psi.ArgumentList.Add(arg);

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
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
    /// Prefixes the argv with setpriv. .NET's Process has no hook between fork and exec, so the
    /// setuid/setgid/initgroups have to happen in a helper that then execs the real program;
    /// setpriv does exactly that and nothing else. HOME, USER and LOGNAME are set for the target
    /// user (the rest of the environment is inherited, so the spec's overrides still apply).
    /// </summary>
    private string[] AsUser(ProcessSpec spec, string executable, ProcessStartInfo psi)
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
            if (account.Uid == (int)LibC.GetEuid()) return [executable, .. spec.Argv.Skip(1)];
            throw new UnauthorizedAccessException($"cannot run {spec.Argv[0]} as {user}: only root can run a process as another user");
        }
        if (!File.Exists(SetprivPath))
            throw new FileNotFoundException($"cannot run {spec.Argv[0]} as {user}: {SetprivPath} (util-linux) is missing", SetprivPath);
        return
        [
            SetprivPath,
            $"--reuid={account.Uid.ToString(CultureInfo.InvariantCulture)}",
            $"--regid={account.Gid.ToString(CultureInfo.InvariantCulture)}",
            "--init-groups",
            "--",
            executable,
            .. spec.Argv.Skip(1),
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

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
    }
}
