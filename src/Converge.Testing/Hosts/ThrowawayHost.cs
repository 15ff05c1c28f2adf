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
/// mount namespace at any point. With <see cref="HostInit.Systemd"/> pid 1 is the machine's systemd, in a
/// cgroup namespace over the host's own cgroup2 subtree (<see cref="CgroupPath"/>), removed at teardown.
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
    private readonly HostCgroup? _cgroup;
    private readonly Process _launcher;
    private readonly string _pidNamespace;
    private int _disposed;

    private ThrowawayHost(HostLayout layout, HostCgroup? cgroup, Process launcher, int initPid, string pidNamespace, HostOptions options)
    {
        _layout = layout;
        _cgroup = cgroup;
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
    /// A systemd host's cgroup2 subtree on the machine (<c>/sys/fs/cgroup[/unified]/converge-host-*</c>), which
    /// the host sees as its <c>/sys/fs/cgroup</c>; gone after teardown. Null for a shell-init host.
    /// </summary>
    public string? CgroupPath => _cgroup?.Path;

    /// <summary>What <c>systemctl is-system-running</c> said when a systemd host had booted (<c>running</c> or <c>degraded</c>); null for a shell-init host.</summary>
    public string? SystemState { get; private set; }

    /// <summary>The machine's cgroup2 subtrees of systemd hosts that exist now: a leak when no host runs.</summary>
    public static IReadOnlyList<string> HostCgroups() => HostCgroup.All();

    /// <summary>
    /// Starts a host and returns once its pid 1 runs inside the new root — for a systemd host, once systemd
    /// has booted (<see cref="SystemState"/>). Throws <see cref="HostStartException"/> with the setup's own
    /// error message when the kernel refuses a namespace or a mount, when setup takes longer than
    /// <see cref="HostOptions.StartTimeout"/>, or when systemd does not finish booting within
    /// <see cref="HostOptions.BootTimeout"/> (with its state, failed units and pending jobs); a failed start
    /// leaves nothing behind. With <see cref="HostOptions.Packages"/>, the first start of a package set may
    /// build its layer first (seconds; not counted against the start timeout).
    /// </summary>
    public static ThrowawayHost Start(HostOptions? options = null)
    {
        options ??= new HostOptions();
        var convergeDirectory = options.MountConverge ? System.IO.Path.GetDirectoryName(ConvergeProcess.ExecutablePath) : null;
        var systemd = options.Init == HostInit.Systemd;
        HostCgroup? cgroup = null;
        if (options.BaseLayer is not null && options.Packages.Count > 0)
            throw new ArgumentException("HostOptions.BaseLayer and Packages exclude each other", nameof(options));
        // Before the state dir exists: a first build takes seconds and runs a host of its own.
        string? baseLayer;
        try { baseLayer = options.BaseLayer ?? (options.Packages.Count > 0 ? PackageLayers.Shared.Get(options.Packages) : null); }
        catch (Exception e) when (e is not HostStartException)
        {
            throw new HostStartException($"could not prepare packages {string.Join(", ", options.Packages)}: {e.Message}", e);
        }
        var layout = HostLayout.Create();
        layout.BaseLayer = baseLayer;
        Process? launcher = null;
        try
        {
            if (systemd)
            {
                cgroup = HostCgroup.Create(layout);
                File.WriteAllText(layout.LaunchScript, LaunchScript(layout));
            }
            File.WriteAllText(layout.SetupScript, HostSetupScript.Generate(layout, options, convergeDirectory, cgroup?.Path));
            launcher = Process.Start(LaunchCommand(layout, systemd)) ?? throw new HostStartException("unshare did not start");
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
            // A systemd host's pid 1 is the child of unshare, which the watchdog script started.
            var parent = systemd ? ParentPid(ParentPid(initPid)) : ParentPid(initPid);
            if (parent != launcher.Id)
                throw new HostStartException($"pid {initPid} reported by setup is not the launcher's {(systemd ? "grandchild" : "child")}");
            var host = new ThrowawayHost(layout, cgroup, launcher, initPid, pidNamespace, options);
            if (systemd)
            {
                try
                {
                    // Off the caller's synchronization context: Start is synchronous, the probe is a process.
                    Task.Run(() => host.WaitBootedAsync(options.BootTimeout)).GetAwaiter().GetResult();
                }
                catch
                {
                    host.Dispose();
                    throw;
                }
            }
            return host;
        }
        catch (Exception e)
        {
            if (launcher is not null)
            {
                // --kill-child: killing unshare kills the host's pid 1, and with it the whole namespace.
                try { launcher.Kill(entireProcessTree: true); launcher.WaitForExit(TeardownTimeout); } catch (InvalidOperationException) { }
                launcher.Dispose();
            }
            cgroup?.Delete(TeardownTimeout);
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

    /// <summary>
    /// Closes the pipe the host's watchdog holds, as the kernel does when the test process dies without
    /// disposing the host; the host then goes away on its own. For the fixture's own tests: call
    /// <see cref="Dispose"/> afterwards all the same (it finds pid 1 gone and deletes the state).
    /// </summary>
    public void CloseWatchdogPipe() => _launcher.StandardInput.Close();

    /// <summary>Synchronous <see cref="ConvergeAsync"/>.</summary>
    public ConvergeRun Converge(params string[] args) => ConvergeAsync(args).GetAwaiter().GetResult();

    /// <summary>
    /// Tears the host down: kills pid 1 (only after checking that the pid still belongs to the host's pid
    /// namespace, so a recycled pid is never killed), waits for the kernel to kill the rest, verifies that
    /// no process is left in the namespace, and deletes the state directory and a systemd host's cgroup
    /// subtree. Safe to call twice.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (ReadPidNamespace(InitPid) == _pidNamespace && kill(InitPid, SIGKILL) != 0 && Marshal.GetLastPInvokeError() != ESRCH)
                throw new InvalidOperationException($"kill {InitPid}: errno {Marshal.GetLastPInvokeError()}");
            // unshare exits once its child, pid 1, is reaped, which the kernel does after every other process
            // of the namespace is gone; a systemd host's watchdog exits with unshare.
            using (var limit = new CancellationTokenSource(TeardownTimeout))
                await _launcher.WaitForExitAsync(limit.Token);
            var left = ProcessesIn(_pidNamespace);
            // After CloseWatchdogPipe, the watchdog may have exited while the kernel still kills the host.
            for (var waited = Stopwatch.StartNew(); left.Count > 0 && waited.Elapsed < TeardownTimeout; left = ProcessesIn(_pidNamespace))
                await Task.Delay(10);
            if (left.Count > 0)
                throw new InvalidOperationException($"processes left in host {Options.Hostname} after teardown: {string.Join(", ", left)}");
        }
        finally
        {
            _launcher.Dispose();
            try { _cgroup?.Delete(TeardownTimeout); }
            finally { _layout.Delete(); }
        }
    }

    // systemctl answers only once systemd has opened its private socket (a few ms after exec): until then
    // it fails without a state, and is asked again. `--wait` then blocks until the boot is done.
    private async Task WaitBootedAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var state = "(no answer)";
        while (clock.Elapsed < timeout)
        {
            HostCommandResult result;
            try { result = await RunAsync(["systemctl", "is-system-running", "--wait"], timeout: timeout - clock.Elapsed); }
            catch (TimeoutException) { break; }
            var said = result.Stdout.Trim();
            if (said is "running" or "degraded")
            {
                SystemState = said;
                return;
            }
            if (said is "maintenance" or "stopping")
            {
                state = said;
                break;
            }
            if (said.Length > 0) state = said;
            await Task.Delay(20);
        }
        throw new HostStartException($"systemd in host {Options.Hostname} did not finish booting within {timeout.TotalSeconds:0.#} s " +
            $"(is-system-running: {state})\nfailed units:\n{await DiagnoseAsync(["systemctl", "list-units", "--failed", "--no-legend", "--plain"])}" +
            $"\npending jobs:\n{await DiagnoseAsync(["systemctl", "list-jobs", "--no-legend"])}");
    }

    private async Task<string> DiagnoseAsync(IReadOnlyList<string> argv)
    {
        try
        {
            var result = await RunAsync(argv, timeout: TimeSpan.FromSeconds(5));
            var text = (result.Stdout + result.Stderr).Trim();
            return text.Length == 0 ? "  (none)" : string.Join('\n', text.Split('\n').Select(l => "  " + l));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            return "  (" + e.Message + ")";
        }
    }

    /// <summary>
    /// Makes teardown move the host's upper directory to <paramref name="destination"/> (same filesystem,
    /// must not exist yet) instead of deleting it: how <see cref="PackageLayers"/> keeps a prepared layer.
    /// </summary>
    internal void KeepUpperAfterTeardown(string destination) => _layout.KeepUpperAt = destination;

    private void EnsureRunning()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (ReadPidNamespace(InitPid) != _pidNamespace)
            throw new InvalidOperationException($"host {Options.Hostname} is not running: its pid 1 ({InitPid}) exited");
    }

    // The whole host in one process: new namespaces, then the generated setup, which execs init as pid 1.
    // --kill-child ties the host's life to this launcher: if the test process dies, so does the host.
    // (A network namespace will be entered here first: nsenter --net=/run/netns/NAME unshare ...)
    private static ProcessStartInfo LaunchCommand(HostLayout layout, bool systemd)
    {
        var psi = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (systemd)
        {
            psi.FileName = "/bin/bash";
            foreach (var a in new[] { "--norc", "--noprofile", layout.LaunchScript })
                psi.ArgumentList.Add(a);
        }
        else
        {
            foreach (var a in UnshareArguments(layout))
                psi.ArgumentList.Add(a);
        }
        psi.Environment.Clear();
        foreach (var (k, v) in BaseEnvironment) psi.Environment[k] = v;
        return psi;
    }

    private static string[] UnshareArguments(HostLayout layout) =>
        ["--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--propagation", "private", "/bin/bash", "--norc", "--noprofile", layout.SetupScript];

    // The watchdog of a systemd host. The shell init stops itself when the test process's pipe closes;
    // systemd as pid 1 knows no such pipe, and from inside the host nothing can SIGKILL it. So the watch
    // runs outside: this script holds the pipe, and when it closes (the test process disposed the host, or
    // died) it SIGKILLs unshare, whose --kill-child SIGKILLs pid 1, and the kernel takes the whole host.
    // It also ends when unshare does (setup failed, or the host was killed), with unshare's status; only
    // unshare keeps the output pipes, so a failed setup reads as EOF at once. `%1`, not a pid: a job that
    // has finished is never signalled, even when its pid has been reused.
    private static string LaunchScript(HostLayout layout) =>
        $"unshare {string.Join(' ', UnshareArguments(layout).Select(HostSetupScript.Quote))} </dev/null &\n" +
        "exec >/dev/null 2>&1\n" +
        "cat <&0 >/dev/null &\n" +
        "wait -n\n" +
        "status=$?\n" +
        "kill -KILL %1 %2\n" +
        "wait\n" +
        "exit $status\n";

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
