using System.Globalization;

namespace Converge.Machine;

/// <summary>Another run held the run lock for longer than this run was willing to wait.</summary>
public sealed class RunLockTimeoutException : Exception
{
    /// <summary>Creates the exception; the message names the holder (when known), the lock and the wait.</summary>
    public RunLockTimeoutException(string lockPath, int? holderPid, TimeSpan waited)
        : base(FormatMessage(lockPath, holderPid, waited))
    {
        LockPath = lockPath;
        HolderPid = holderPid;
        Waited = waited;
    }

    /// <summary>The lock file.</summary>
    public string LockPath { get; }

    /// <summary>The pid the holder wrote into the lock file, or null if it wrote none (yet).</summary>
    public int? HolderPid { get; }

    /// <summary>How long this run waited.</summary>
    public TimeSpan Waited { get; }

    private static string FormatMessage(string lockPath, int? holderPid, TimeSpan waited)
    {
        var who = holderPid is { } pid ? $"another converge run (pid {pid.ToString(CultureInfo.InvariantCulture)})" : "another converge run";
        var seconds = Math.Round(waited.TotalSeconds, waited.TotalSeconds < 10 ? 1 : 0);
        return $"{who} holds {lockPath}; waited {seconds.ToString(CultureInfo.InvariantCulture)} s";
    }
}
