using Converge.Engine;
using Converge.Machine;

namespace Converge.Cli;

/// <summary>
/// Takes the run lock in the state directory for a command that changes the host (apply, undo,
/// bucket restore), with the messages and exit codes every such command gives: a lock held too long
/// names its holder, an unusable state directory says how to fix it, an interrupt while waiting says
/// nothing was changed.
/// </summary>
internal static class StateLock
{
    /// <summary>The outcome: the lock (null when previewing without one), or the exit code to stop with.</summary>
    public readonly record struct Result(RunLock? Lock, bool StateWritable, int? ExitCode);

    /// <param name="previewWithout">
    /// A preview changes nothing, so an ordinary user may run one: when the state directory cannot be
    /// used, the run goes on without the lock and without a report (a warning says so).
    /// </param>
    public static Result Acquire(Settings settings, TimeSpan timeout, bool previewWithout, Serilog.ILogger log, CancellationToken ct)
    {
        var stateDir = settings.EffectiveStateDir;
        try
        {
            Directory.CreateDirectory(stateDir);
            return new Result(RunLock.Acquire(settings.LockPath, timeout, ct), true, null);
        }
        catch (RunLockTimeoutException e)
        {
            Console.Error.WriteLine($"converge: {e.Message}");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException && previewWithout)
        {
            log.Warning("Cannot use the state directory {StateDir} ({Reason}); previewing without the run lock and without writing a report",
                stateDir, e.Message);
            return new Result(null, false, null);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            Console.Error.WriteLine($"converge: cannot use state directory {stateDir}: {e.Message} (run as root, or pass --state-dir)");
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("converge: interrupted while waiting for the run lock; nothing was changed");
        }
        return new Result(null, false, ExitCodes.Failures);
    }
}
