using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Converge.Testing.Hosts;

/// <summary>
/// A throwaway Debian host on this machine: its own mount, pid, UTS and IPC namespaces over an overlay
/// of <c>/</c>, so real <c>useradd</c>, <c>dpkg</c> or <c>converge apply</c> change only a temp upper
/// directory that disappears on <see cref="Dispose"/>. The host shares the machine's kernel, network and
/// users' uid space; it is a fixture against accidents, not a security boundary.
/// </summary>
/// <remarks>
/// Requires root and <c>unshare</c>/<c>nsenter</c>/<c>setpriv</c> (util-linux). Teardown kills the host's
/// pid 1, which makes the kernel kill every process in the host and drop its mount namespace (and with
/// it every mount inside); then the state directory is deleted. Nothing is mounted in the machine's own
/// mount namespace at any point.
/// </remarks>
public sealed class ThrowawayHost : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TeardownTimeout = TimeSpan.FromSeconds(10);

    // Commands see a clean, predictable environment, not the test runner's (DOTNET_*, pyenv's PATH, ...).
    private static readonly IReadOnlyDictionary<string, string> BaseEnvironment = new Dictionary<string, string>
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["HOME"] = "/root",
        ["USER"] = "root",
        ["LOGNAME"] = "root",
        ["LANG"] = "C.UTF-8",
        ["TERM"] = "dumb",
    };

    private readonly HostLayout _layout;
    private readonly Process _launcher;
    private readonly string _pidNamespace;
    private int _disposed;

    private ThrowawayHost(HostLayout layout, Process launcher, int initPid, string pidNamespace, HostOptions options)
    {
        _layout = layout;
        _launcher = launcher;
        InitPid = initPid;
        _pidNamespace = pidNamespace;
        Options = options;
    }

    /// <summary>Where the test's converge build is mounted inside the host (when <see cref="HostOptions.MountConverge"/>).</summary>
    public static string ConvergeDirectory => HostSetupScript.ConvergeMountPoint;

    public HostOptions Options { get; }

    /// <summary>The host's pid 1, as a pid of the machine's pid namespace.</summary>
    public int InitPid { get; }

    /// <summary>The host's pid namespace, as <c>readlink /proc/PID/ns/pid</c> shows it (<c>pid:[inode]</c>).</summary>
    public string PidNamespace => _pidNamespace;

    /// <summary>The fixture's state directory on the machine (<c>/tmp/converge-host-*</c>); gone after teardown.</summary>
    public string StateDirectory => _layout.Root;

    /// <summary>
    /// Starts a host and returns once its pid 1 runs inside the new root. Throws
    /// <see cref="HostStartException"/> with the setup's own error message when the kernel refuses a
    /// namespace or a mount, or when setup takes longer than <see cref="HostOptions.StartTimeout"/>; a
    /// failed start leaves nothing behind.
    /// </summary>
    public static ThrowawayHost Start(HostOptions? options = null)
    {
        options ??= new HostOptions();
        var convergeDirectory = options.MountConverge ? System.IO.Path.GetDirectoryName(ConvergeProcess.ExecutablePath) : null;
        var layout = HostLayout.Create();
        Process? launcher = null;
        try
        {
            File.WriteAllText(layout.SetupScript, HostSetupScript.Generate(layout, options, convergeDirectory));
            launcher = Process.Start(LaunchCommand(layout)) ?? throw new HostStartException("unshare did not start");
            var stderr = launcher.StandardError.ReadToEndAsync();
            var ready = launcher.StandardOutput.ReadLineAsync();
            if (!ready.Wait(options.StartTimeout))
                throw new HostStartException($"host setup did not finish within {options.StartTimeout.TotalSeconds:0.#} s (a mount or namespace operation hangs?)");
            if (ready.Result is not { } line || !line.StartsWith("ready ", StringComparison.Ordinal))
            {
                launcher.WaitForExit(TeardownTimeout);
                var message = stderr.Wait(TeardownTimeout) ? stderr.Result.Trim() : "(no message)";
                throw new HostStartException($"host setup failed (exit {(launcher.HasExited ? launcher.ExitCode : -1)}): {message}" +
                    (message.Contains("unshare failed", StringComparison.Ordinal) ? "\nThe kernel refused to create the namespaces: throwaway hosts need root (CAP_SYS_ADMIN) and a kernel that allows mount and pid namespaces." : ""));
            }
            var initPid = int.Parse(line.AsSpan("ready ".Length));
            var pidNamespace = ReadPidNamespace(initPid) ?? throw new HostStartException($"host pid 1 ({initPid}) exited right after setup");
            if (pidNamespace == ReadPidNamespace(Environment.ProcessId))
                throw new HostStartException("host pid 1 runs in the machine's pid namespace: unshare --pid did not take effect");
            if (ParentPid(initPid) != launcher.Id)
                throw new HostStartException($"pid {initPid} reported by setup is not the launcher's child");
            return new ThrowawayHost(layout, launcher, initPid, pidNamespace, options);
        }
        catch (Exception e)
        {
            if (launcher is not null)
            {
                // --kill-child: killing unshare kills the host's pid 1, and with it the whole namespace.
                try { launcher.Kill(entireProcessTree: true); launcher.WaitForExit(TeardownTimeout); } catch (InvalidOperationException) { }
                launcher.Dispose();
            }
            layout.Delete();
            if (e is HostStartException) throw;
            throw new HostStartException("could not start a throwaway host: " + e.Message, e);
        }
    }

    /// <summary>
    /// The machine-side path of <paramref name="hostPath"/>, through <c>/proc/PID/root</c>: reads and
    /// writes go through the host's overlay exactly as the host sees it. Valid only while the host runs.
    /// </summary>
    public string Path(string hostPath) => $"/proc/{InitPid}/root{Absolute(hostPath)}";

    /// <summary>
    /// Where a file the host created or changed lives in the overlay's upper directory (absent for files
    /// the host never touched; a deleted file shows as a 0/0 character device). For inspection only:
    /// writing to the upper directory of a mounted overlay is undefined.
    /// </summary>
    public string UpperPath(string hostPath) => _layout.Upper + Absolute(hostPath);

    /// <summary>
    /// Runs <paramref name="argv"/> inside the host as root (its namespaces and root, cwd <c>/</c>, a clean
    /// environment plus <paramref name="environment"/>; a null value removes a variable). Throws
    /// <see cref="TimeoutException"/> after killing the command's process tree when it outlives <paramref name="timeout"/>.
    /// </summary>
    public async Task<HostCommandResult> RunAsync(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? environment = null,
        string? stdin = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (argv.Count == 0) throw new ArgumentException("empty command", nameof(argv));
        EnsureRunning();
        var psi = new ProcessStartInfo("nsenter")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--target", InitPid.ToString(), "--mount", "--uts", "--ipc", "--pid" })
            psi.ArgumentList.Add(a);
        if (Options.PrivateNetwork) psi.ArgumentList.Add("--net");
        foreach (var a in new[] { "--root", "--wd", "--", "setpriv", "--bounding-set", HostSetupScript.DroppedCapabilities, "--" })
            psi.ArgumentList.Add(a);
        foreach (var a in argv) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in BaseEnvironment) psi.Environment[k] = v;
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("nsenter did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        catch (IOException) { } // the command exited without reading its input
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var effective = timeout ?? DefaultCommandTimeout;
        limit.CancelAfter(effective);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{string.Join(' ', argv)} did not finish within {effective.TotalSeconds:0.#} s in host {Options.Hostname}");
        }
        return new HostCommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a shell command line with <c>/bin/sh -c</c> inside the host.</summary>
    public Task<HostCommandResult> ShAsync(string script, string? stdin = null, TimeSpan? timeout = null) =>
        RunAsync(["/bin/sh", "-c", script], stdin: stdin, timeout: timeout);

    /// <summary>Writes <paramref name="content"/> to <paramref name="hostPath"/> inside the host, creating parent directories.</summary>
    public async Task WriteFileAsync(string hostPath, string content)
    {
        var result = await RunAsync(["/bin/sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\"", "sh", Absolute(hostPath)], stdin: content);
        if (result.ExitCode != 0) throw new IOException($"writing {hostPath} in host {Options.Hostname}: {result}");
    }

    /// <summary>
    /// Runs the test's converge build inside the host, as the CLI tests run it on the machine (no colours,
    /// no inherited state or facts dir), and returns the same <see cref="ConvergeRun"/>.
    /// </summary>
    public async Task<ConvergeRun> ConvergeAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        if (!Options.MountConverge) throw new InvalidOperationException("this host was started with MountConverge = false");
        var env = new Dictionary<string, string?> { ["NO_COLOR"] = "1" };
        // The apphost finds the runtime the tests run on; /usr/share/dotnet is part of / and so visible in the host.
        if (DotnetRoot() is { } root) env["DOTNET_ROOT"] = root;
        if (environment is not null) foreach (var (k, v) in environment) env[k] = v;
        var result = await RunAsync([ConvergeDirectory + "/converge", .. args], env, timeout: timeout ?? TimeSpan.FromSeconds(120));
        return new ConvergeRun(result.ExitCode, result.Stdout, result.Stderr);
    }

    /// <summary>Synchronous <see cref="ConvergeAsync"/>.</summary>
    public ConvergeRun Converge(params string[] args) => ConvergeAsync(args).GetAwaiter().GetResult();

    /// <summary>
    /// Tears the host down: kills pid 1 (only after checking that the pid still belongs to the host's pid
    /// namespace, so a recycled pid is never killed), waits for the kernel to kill the rest, verifies that
    /// no process is left in the namespace, and deletes the state directory. Safe to call twice.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (ReadPidNamespace(InitPid) == _pidNamespace && kill(InitPid, SIGKILL) != 0 && Marshal.GetLastPInvokeError() != ESRCH)
                throw new InvalidOperationException($"kill {InitPid}: errno {Marshal.GetLastPInvokeError()}");
            using (var limit = new CancellationTokenSource(TeardownTimeout))
                await _launcher.WaitForExitAsync(limit.Token);
            var left = ProcessesIn(_pidNamespace);
            if (left.Count > 0)
                throw new InvalidOperationException($"processes left in host {Options.Hostname} after teardown: {string.Join(", ", left)}");
        }
        finally
        {
            _launcher.Dispose();
            _layout.Delete();
        }
    }

    private void EnsureRunning()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (ReadPidNamespace(InitPid) != _pidNamespace)
            throw new InvalidOperationException($"host {Options.Hostname} is not running: its pid 1 ({InitPid}) exited");
    }

    // The whole host in one process: new namespaces, then the generated setup, which execs init as pid 1.
    // --kill-child ties the host's life to this launcher: if the test process dies, so does the host.
    // (A network namespace will be entered here first: nsenter --net=/run/netns/NAME unshare ...)
    private static ProcessStartInfo LaunchCommand(HostLayout layout)
    {
        var psi = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--propagation", "private",
                     "/bin/bash", "--norc", "--noprofile", layout.SetupScript })
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in BaseEnvironment) psi.Environment[k] = v;
        return psi;
    }

    private static string Absolute(string hostPath) =>
        hostPath.StartsWith('/') ? hostPath : throw new ArgumentException($"host paths are absolute: {hostPath}", nameof(hostPath));

    private static string? DotnetRoot()
    {
        // .../dotnet/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll → .../dotnet
        var dir = new FileInfo(typeof(object).Assembly.Location).Directory?.Parent?.Parent?.Parent;
        return dir is not null && File.Exists(System.IO.Path.Combine(dir.FullName, "dotnet")) ? dir.FullName : null;
    }

    private static string? ReadPidNamespace(int pid)
    {
        try { return new FileInfo($"/proc/{pid}/ns/pid").LinkTarget; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Pids (machine numbering) of every process whose pid namespace is <paramref name="pidNamespace"/> (<c>pid:[inode]</c>).</summary>
    public static IReadOnlyList<int> ProcessesIn(string pidNamespace)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(System.IO.Path.GetFileName(dir), out var pid) && ReadPidNamespace(pid) == pidNamespace)
                pids.Add(pid);
        return pids;
    }

    private static int ParentPid(int pid)
    {
        // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1]);
    }

    private const int SIGKILL = 9;
    private const int ESRCH = 3;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>What a command run inside a host printed and returned.</summary>
public sealed record HostCommandResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A throwaway host could not be started; the message carries the setup's own error.</summary>
public sealed class HostStartException(string message, Exception? inner = null) : Exception(message, inner);
