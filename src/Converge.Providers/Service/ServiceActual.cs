namespace Converge.Providers.Service;

/// <summary>
/// A service as read: which manager answered (<see cref="Provider"/>, the detected default when the
/// resource names none), whether it runs, whether it is enabled at boot (runit: linked into
/// <c>/etc/service</c>; sysv: S links in rc2–5.d; systemd: <c>is-enabled</c>). <see cref="HasRcLinks"/>
/// (sysv only) says whether update-rc.d has any link for it, so enabling uses <c>enable</c> rather than
/// <c>defaults</c>.
/// </summary>
public sealed record ServiceActual(string Provider, bool Running, bool Enabled, bool HasRcLinks = false)
{
    public string RunningDisplay => Running ? "running" : "stopped";
}
