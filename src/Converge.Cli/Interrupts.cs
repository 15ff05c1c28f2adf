using System.Runtime.InteropServices;

namespace Converge.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM for a command that can stop cleanly. The first signal cancels
/// <see cref="Token"/> and is otherwise swallowed: no new resource starts, the running one finishes, the
/// report is written. A second signal is not swallowed, so its default action ends the process at once.
/// </summary>
/// <remarks>
/// Registered before the command starts, not left to System.CommandLine's ProcessTerminationTimeout:
/// that registers its handler only after the action returned its Task, i.e. after the action's first
/// await that really waits. For <c>apply</c> that is the first command a resource runs, so a signal
/// before it, or in the milliseconds between the child starting and the registration, found no handler
/// and killed converge (exit by signal, no report). Once the first Process starts, .NET's own handler
/// is installed but, with no registration to cancel the signal, re-raises it with the default action.
/// </remarks>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly TextWriter _stderr;
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;
    private readonly string _again;
    private int _received;

    /// <summary>
    /// Starts handling SIGINT and SIGTERM; <paramref name="stderr"/> gets the line said on a second one,
    /// which ends with <paramref name="again"/> (default: what a second signal means for a local run).
    /// </summary>
    public Interrupts(TextWriter stderr, string? again = null)
    {
        _stderr = stderr;
        _again = again ?? "stopping now; the running resource is left as it is and no report is written";
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cts.Token;

    // .NET runs this on a thread of its own, not the one that reads signals, so the token's callbacks
    // (they print, and wake the engine) cannot hold up the SIGCHLD handling a running Process needs.
    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) == 1)
        {
            context.Cancel = true;
            _cts.Cancel();
            return;
        }
        // Not cancelled: .NET re-raises the signal with its default action once this returns.
        _stderr.WriteLine($"converge: interrupted again ({context.Signal}): {_again}");
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        // _cts is not disposed: a handler already under way may still cancel it, and with no timer
        // there is nothing to free.
    }
}
