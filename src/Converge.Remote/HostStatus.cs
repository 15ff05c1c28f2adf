namespace Converge.Remote;

/// <summary>How one host's run ended, as the table shows it.</summary>
public enum HostStatus
{
    /// <summary>Converged: nothing needed changing.</summary>
    Ok,
    /// <summary>Changes applied (or, with --noop, pending); no failure.</summary>
    Changed,
    /// <summary>The remote run reported failures, could not load its manifests, or crashed.</summary>
    Failed,
    /// <summary>No TCP connection or SSH handshake within the timeout, or the connection dropped.</summary>
    Unreachable,
    /// <summary>The server refused every key offered (or a key file could not be read).</summary>
    AuthFailed,
    /// <summary>The host offered a key other than the one known_hosts records. Never connected.</summary>
    HostKeyMismatch,
    /// <summary>known_hosts has no line for the host and --accept-new was not given. Never connected.</summary>
    HostKeyUnknown,
    /// <summary><c>become</c> is set but <c>sudo -n</c> asked for a password.</summary>
    SudoNeedsPassword,
    /// <summary>Ctrl-C reached the remote run: its running resource finished, the rest were skipped.</summary>
    Interrupted,
    /// <summary>Never started: an earlier wave failed beyond --max-fail, or the run was interrupted.</summary>
    NotStarted,
}

/// <summary>Names and exit-code meaning of <see cref="HostStatus"/>.</summary>
public static class HostStatusText
{
    public static string Name(HostStatus s) => s switch
    {
        HostStatus.Ok => "ok",
        HostStatus.Changed => "changed",
        HostStatus.Failed => "failed",
        HostStatus.Unreachable => "unreachable",
        HostStatus.AuthFailed => "auth failed",
        HostStatus.HostKeyMismatch => "host key mismatch",
        HostStatus.HostKeyUnknown => "host key unknown",
        HostStatus.SudoNeedsPassword => "sudo needs password",
        HostStatus.Interrupted => "interrupted",
        HostStatus.NotStarted => "not started",
        _ => s.ToString().ToLowerInvariant(),
    };

    /// <summary>Everything but ok and changed counts as a failed host (for --max-fail and the exit code).</summary>
    public static bool IsFailure(HostStatus s) => s is not (HostStatus.Ok or HostStatus.Changed);
}

/// <summary>A host-level failure with the status it maps to; thrown inside one host's run, caught by its runner.</summary>
public sealed class RemoteException(HostStatus status, string message) : Exception(message)
{
    public HostStatus Status { get; } = status;
}
