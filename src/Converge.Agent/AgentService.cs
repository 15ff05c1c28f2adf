using Converge.Engine;
using Converge.Machine;
using Microsoft.Extensions.Hosting;
using Serilog;

namespace Converge.Agent;

/// <summary>
/// The agent as a hosted background service: one cycle at start, then one per <c>interval ± splay</c>
/// or at once on SIGHUP, until the host stops (SIGTERM/SIGINT). A cycle that throws is logged and
/// recorded, and the next one runs as scheduled. With <c>--once</c> it runs one cycle and stops the
/// host with that cycle's exit code.
/// </summary>
public sealed class AgentService(AgentOptions options, IManifestRunner runner, ILogger log, AgentSchedule schedule,
    IHostApplicationLifetime lifetime, TimeProvider time, AgentExit exit) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // let the host finish starting (and tell systemd it is ready) before the first cycle
        RunLock agentLock;
        var state = new AgentState(options.StateDir);
        try
        {
            Directory.CreateDirectory(state.Directory);
            // One agent per state directory: two would fight over the git cache and the fallback revision.
            agentLock = RunLock.Acquire(state.AgentLockPath, TimeSpan.Zero, stoppingToken);
        }
        catch (RunLockTimeoutException)
        {
            var pid = RunLock.ReadHolderPid(state.AgentLockPath);
            log.Error("Another converge agent{Pid} already uses the state directory {StateDir}; exiting",
                pid is null ? "" : $" (pid {pid})", options.StateDir);
            exit.Code = ExitCodes.Failures;
            lifetime.StopApplication();
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error("Cannot use the state directory {StateDir}: {Message} (run as root, or pass --state-dir)", options.StateDir, e.Message);
            exit.Code = ExitCodes.Failures;
            lifetime.StopApplication();
            return;
        }

        using (agentLock)
        {
            var cycle = new AgentCycle(options, runner, log, time);
            log.Information("Converge agent started: {Source} ({What}) every {Interval}{Splay}, state in {StateDir}{Noop}",
                options.Source, options.Revision is null ? "branch " + options.Branch : "pinned " + options.Revision,
                Durations.Format(options.Interval), options.Splay > TimeSpan.Zero ? " ± " + Durations.Format(options.Splay) : "",
                options.StateDir, options.Noop ? " (noop: changes nothing)" : "");
            while (!stoppingToken.IsCancellationRequested)
            {
                var started = time.GetUtcNow();
                try
                {
                    var code = await cycle.RunAsync(stoppingToken);
                    // --once reports the run; a service that is stopped ends cleanly whatever its last run did.
                    if (options.Once) exit.Code = code;
                }
                catch (RunHungException e)
                {
                    log.Fatal("{Message}", e.Message);
                    ChildProcesses.KillAll();
                    exit.Code = ExitCodes.Failures;
                    lifetime.StopApplication();
                    return;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break; // stopped while fetching or exporting: nothing was changed
                }
                catch (Exception e)
                {
                    log.Error(e, "The agent cycle failed unexpectedly; the next cycle runs as scheduled");
                    if (options.Once) exit.Code = ExitCodes.Failures;
                    try { cycle.RecordCrash(e, started); }
                    catch (Exception again) { log.Error(again, "Could not record the failed cycle"); }
                }
                if (options.Once) break;
                var delay = schedule.NextDelay();
                log.Debug("Next run in {Delay}", Durations.Format(delay));
                var wake = await schedule.WaitAsync(delay, stoppingToken);
                if (wake == WakeReason.Triggered) log.Information("Run requested (SIGHUP)");
            }
        }
        log.Information("Converge agent stopped");
        if (options.Once) lifetime.StopApplication();
    }
}

/// <summary>The agent process's exit code, set by the service and returned by <see cref="AgentHost.RunAsync"/>.</summary>
public sealed class AgentExit
{
    public int Code { get; set; }
}

/// <summary>Ends the processes this one started (a hung exec's command) before the agent gives up on a run.</summary>
internal static class ChildProcesses
{
    public static void KillAll()
    {
        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // Fields after the parenthesised command name: state, ppid, …
                var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (rest.Length > 1 && int.TryParse(rest[1], out var ppid) && ppid == self)
                    System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone already, or not ours to read.
            }
        }
    }
}
