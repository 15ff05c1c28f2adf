using Converge.Machine;

namespace Converge.Providers.Service;

/// <summary>
/// The three service managers as argv: one place that knows how each one starts, stops, enables,
/// disables, restarts and reloads a service, and which one a host uses by default.
/// </summary>
public static class ServiceManagers
{
    public const string Runit = "runit";
    public const string Sysv = "sysv";
    public const string Systemd = "systemd";

    /// <summary>The managers this build implements.</summary>
    public static readonly IReadOnlyList<string> All = [Runit, Sysv, Systemd];

    /// <summary>runit's service directory (what runsvdir supervises) and where service definitions live.</summary>
    public const string RunitServiceDirectory = "/etc/service";
    public const string RunitSvDirectory = "/etc/sv";

    /// <summary>Where runsvdir may be installed; runit is the default only when one of them exists.</summary>
    public static readonly IReadOnlyList<string> RunsvdirPaths = ["/usr/bin/runsvdir", "/usr/sbin/runsvdir", "/sbin/runsvdir", "/bin/runsvdir"];

    /// <summary>
    /// The default manager of a host — the one place this is decided (facts do not reach Parse, so it is
    /// decided at Read time through the host itself): systemd when PID 1 is systemd (<c>/proc/1/comm</c>);
    /// else runit when <c>/etc/service</c> or <c>/etc/sv</c> exists and runsvdir is installed; else sysv.
    /// </summary>
    public static string Detect(ISystem system)
    {
        try
        {
            if (system.Stat("/proc/1/comm") is not null &&
                System.Text.Encoding.UTF8.GetString(system.ReadAllBytes("/proc/1/comm")).Trim() == "systemd")
                return Systemd;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        var runitDirectory = system.Stat(RunitServiceDirectory) is not null || system.Stat(RunitSvDirectory) is not null;
        if (runitDirectory && RunsvdirPaths.Any(p => system.Stat(p) is not null)) return Runit;
        return Sysv;
    }

    public static string RunitLink(string name) => $"{RunitServiceDirectory}/{name}";
    public static string RunitDefinition(string name) => $"{RunitSvDirectory}/{name}";
    public static string InitScript(string name) => $"/etc/init.d/{name}";

    /// <summary>The read-only status query of runit and sysv (systemd reads everything with one <see cref="SystemdShowArgv"/>).</summary>
    public static IReadOnlyList<string> StatusArgv(string provider, string name) => provider switch
    {
        Runit => ["sv", "status", name],
        Sysv => [InitScript(name), "status"],
        Systemd => ["systemctl", "is-active", name],
        _ => throw Unknown(provider),
    };

    /// <summary>
    /// One process for everything a read needs from systemd (a read runs once per service per run):
    /// whether it runs, its unit file state (the answer <c>systemctl is-enabled</c> gives) and whether its
    /// files changed on disk since systemd loaded them.
    /// </summary>
    public static IReadOnlyList<string> SystemdShowArgv(string name) =>
        ["systemctl", "show", "--property=ActiveState,UnitFileState,NeedDaemonReload", name];

    /// <summary>Parses <see cref="SystemdShowArgv"/>'s <c>Key=value</c> lines (in systemd's order, not the asked one).</summary>
    public static (bool Active, string UnitFileState, bool NeedDaemonReload) ParseSystemdShow(string output)
    {
        string active = "", state = "", reload = "";
        foreach (var line in output.Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq < 0) continue;
            var value = line[(eq + 1)..].Trim();
            switch (line[..eq])
            {
                case "ActiveState": active = value; break;
                case "UnitFileState": state = value; break;
                case "NeedDaemonReload": reload = value; break;
            }
        }
        return (active == "active", state, reload == "yes");
    }

    /// <summary>
    /// Whether a <c>systemctl is-enabled</c> answer satisfies <c>enable: true</c>. <c>static</c>, <c>indirect</c>
    /// and <c>generated</c> units have no [Install] section of their own (they start through other units,
    /// sockets or generators): <c>systemctl enable</c> would change nothing, run after run, so they count as enabled.
    /// </summary>
    public static bool SystemdStateIsEnabled(string state) =>
        state is "enabled" or "enabled-runtime" or "alias" or "static" or "indirect" or "generated";

    /// <summary>States that <c>systemctl disable</c> cannot change (see <see cref="SystemdStateIsEnabled"/>).</summary>
    public static bool SystemdStateCannotBeDisabled(string state) => state is "static" or "indirect" or "generated";


    /// <summary>Makes systemd load every unit file again (what a changed unit file or drop-in needs before it counts).</summary>
    public static readonly IReadOnlyList<string> SystemdDaemonReloadArgv = ["systemctl", "daemon-reload"];

    /// <summary>
    /// The unit file a catalog usually manages for a systemd service: <c>/etc/systemd/system/NAME.service</c>
    /// (NAME as is when it already ends in <c>.service</c>).
    /// </summary>
    public static string SystemdUnitFile(string name) =>
        "/etc/systemd/system/" + (name.EndsWith(".service", StringComparison.Ordinal) ? name : name + ".service");

    public static IReadOnlyList<string> StartArgv(string provider, string name) => provider switch
    {
        Runit => ["sv", "-v", "up", name],
        Sysv => [InitScript(name), "start"],
        Systemd => ["systemctl", "start", name],
        _ => throw Unknown(provider),
    };

    public static IReadOnlyList<string> StopArgv(string provider, string name) => provider switch
    {
        Runit => ["sv", "-v", "down", name],
        Sysv => [InitScript(name), "stop"],
        Systemd => ["systemctl", "stop", name],
        _ => throw Unknown(provider),
    };

    /// <summary>
    /// Enables at boot. sysv: <c>update-rc.d NAME enable</c> when it has (disabled) links in the levels that
    /// toggles (rc2–5.d, rcS.d), <c>defaults</c> otherwise.
    /// </summary>
    public static IReadOnlyList<string> EnableArgv(string provider, string name, bool hasRcLinks = false) => provider switch
    {
        Runit => ["ln", "-s", RunitDefinition(name), RunitLink(name)],
        Sysv => ["update-rc.d", name, hasRcLinks ? "enable" : "defaults"],
        Systemd => ["systemctl", "enable", name],
        _ => throw Unknown(provider),
    };

    /// <summary>
    /// Removes every rc link of a sysv service (<c>update-rc.d -f NAME remove</c>): run before <c>defaults</c>
    /// when only stray links are left (K links in rc0/1/6.d, none in rc2–5.d), which <c>enable</c> refuses
    /// ("no runlevel symlinks to modify") and <c>defaults</c> leaves alone (it never touches a service that
    /// has any link).
    /// </summary>
    public static IReadOnlyList<string> SysvRemoveLinksArgv(string name) => ["update-rc.d", "-f", name, "remove"];

    public static IReadOnlyList<string> DisableArgv(string provider, string name) => provider switch
    {
        Runit => ["rm", RunitLink(name)],
        Sysv => ["update-rc.d", name, "disable"],
        Systemd => ["systemctl", "disable", name],
        _ => throw Unknown(provider),
    };

    /// <summary>
    /// Every command a refresh runs, in order: systemd first reloads its unit files (<c>systemctl daemon-reload</c>),
    /// so a unit file or drop-in that changed (and notified the service) takes effect with the restart; then
    /// <see cref="RefreshArgv"/>.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> RefreshArgvs(string provider, string name, ServiceRefresh refresh) =>
        provider == Systemd ? [SystemdDaemonReloadArgv, RefreshArgv(provider, name, refresh)] : [RefreshArgv(provider, name, refresh)];

    /// <summary>The restart (runit: TERM then up, waiting for it) or reload (runit: HUP) itself.</summary>
    public static IReadOnlyList<string> RefreshArgv(string provider, string name, ServiceRefresh refresh)
    {
        var verb = refresh == ServiceRefresh.Reload ? "reload" : "restart";
        return provider switch
        {
            Runit => ["sv", verb, name],
            Sysv => [InitScript(name), verb],
            Systemd => ["systemctl", verb, name],
            _ => throw Unknown(provider),
        };
    }

    /// <summary><c>sv status</c> says <c>run: NAME: (pid 123) 4s</c> for a running service.</summary>
    public static bool RunitStatusIsRunning(string output) => output.StartsWith("run:", StringComparison.Ordinal);

    /// <summary>
    /// sysv's links of <paramref name="name"/>: enabled = an S link in the multi-user levels (rc2–5.d);
    /// <c>HasLinks</c> = an S or K link where <c>update-rc.d enable</c>/<c>disable</c> toggle them (rc2–5.d,
    /// rcS.d); <c>HasStrayLinks</c> = links only elsewhere (rc0/1/6.d), which neither <c>enable</c> nor
    /// <c>defaults</c> can turn into an enabled service.
    /// </summary>
    public static (bool Enabled, bool HasLinks, bool HasStrayLinks) SysvLinks(Func<string, IReadOnlyList<string>> list, string name)
    {
        bool enabled = false, toggleable = false, any = false;
        foreach (var level in new[] { "0", "1", "2", "3", "4", "5", "6", "S" })
        {
            foreach (var entry in list($"/etc/rc{level}.d"))
            {
                if (entry.Length < 4 || entry[3..] != name || !char.IsAsciiDigit(entry[1]) || !char.IsAsciiDigit(entry[2])) continue;
                if (entry[0] is not ('S' or 'K')) continue;
                any = true;
                if (level is "2" or "3" or "4" or "5" or "S") toggleable = true;
                if (entry[0] == 'S' && level is "2" or "3" or "4" or "5") enabled = true;
            }
        }
        return (enabled, toggleable, any && !toggleable);
    }

    private static ArgumentOutOfRangeException Unknown(string provider) => new(nameof(provider), provider, "unknown service provider");
}
