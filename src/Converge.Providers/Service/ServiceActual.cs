namespace Converge.Providers.Service;

/// <summary>
/// A service as read: which manager answered (<see cref="Provider"/>, the detected default when the
/// resource names none), whether it runs, whether it is enabled at boot (runit: linked into
/// <c>/etc/service</c>; sysv: S links in rc2–5.d; systemd: <c>is-enabled</c>). <see cref="HasRcLinks"/>
/// (sysv only) says whether it has links in rc2–5.d or rcS.d, so enabling uses <c>enable</c> rather than
/// <c>defaults</c>; <see cref="HasStrayRcLinks"/> that it has links only in rc0/1/6.d, so enabling first
/// removes them (<c>update-rc.d -f NAME remove</c>) and then runs <c>defaults</c>. <see cref="NeedsDaemonReload"/>
/// (systemd only): the unit's files changed on disk since systemd loaded them, so a start or enable first runs
/// <c>systemctl daemon-reload</c>.
/// </summary>
public sealed record ServiceActual(string Provider, bool Running, bool Enabled, bool HasRcLinks = false, bool HasStrayRcLinks = false,
    bool NeedsDaemonReload = false)
{
    public string RunningDisplay => Running ? "running" : "stopped";
}
