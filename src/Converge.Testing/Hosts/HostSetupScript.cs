using System.Text;

namespace Converge.Testing.Hosts;

/// <summary>
/// Generates the shell script that turns a fresh mount+pid namespace into a host. It runs once, as the
/// host's pid 1, and ends by exec-ing the host's init: one process for every step, because a fork+exec
/// from the test process costs 10–25 ms on a loaded machine and a host needs ~30 steps.
/// </summary>
/// <remarks>
/// Contract with <see cref="ThrowawayHost"/>: on success the script prints exactly one line
/// <c>ready PID</c> on stdout, where PID is its own pid in the machine's pid namespace, then closes
/// stdout/stderr by exec-ing init. On failure it exits non-zero with the failing command's message on stderr.
/// </remarks>
internal static class HostSetupScript
{
    /// <summary>Where the test's converge build is bind-mounted inside every host.</summary>
    public const string ConvergeMountPoint = "/opt/converge";

    /// <summary>
    /// Capabilities dropped from the bounding set of init and of every command run in the host. Not a
    /// security boundary (hosts run as real root on the real kernel): it turns accidents — loading a
    /// module, setting the clock — into errors.
    /// </summary>
    public const string DroppedCapabilities = "-sys_module,-sys_rawio,-sys_time,-mknod,-syslog,-wake_alarm,-mac_admin,-mac_override";

    // pid 1 of a pid namespace must reap orphans (a daemonizing command leaves them behind); bash reaps
    // every child from its SIGCHLD handler, including re-parented ones, while it waits.
    // Its stdin is a pipe whose only writer is the test process: when the test process dies without
    // disposing the host, the watcher sees EOF and stops init, and the kernel tears the host down.
    // (`<&0`: without it bash gives a background job /dev/null as stdin. Only a signal with a handler reaches a namespace's init from inside: hence TERM, trapped.)
    private const string InitLoop = "trap 'exit 0' TERM; { cat >/dev/null; kill -TERM 1; } <&0 & exec </dev/null; while :; do sleep infinity & wait; done";

    /// <summary>The environment variable systemd reads to know it runs in a container, and its value in hosts.</summary>
    public const string ContainerName = "converge-host";

    /// <summary>
    /// The script for <paramref name="layout"/>. <paramref name="cgroup"/> is the host's cgroup2 subtree on
    /// the machine, given exactly when <paramref name="options"/> asks for systemd as pid 1.
    /// </summary>
    public static string Generate(HostLayout layout, HostOptions options, string? convergeDirectory, string? cgroup = null)
    {
        var systemd = options.Init == HostInit.Systemd;
        if (systemd != cgroup is not null) throw new ArgumentException("a cgroup is given exactly for a systemd host", nameof(cgroup));
        var m = Quote(layout.Merged);
        var s = new StringBuilder();
        // Every step is a line of its own: under `set -e`, a failure inside `a && b` (before its last
        // command) would be ignored and leave a half-built host.
        s.AppendLine("set -eu");
        // A private network namespace: the script re-execs itself under `unshare --net` (no fork: the same
        // process, still the host's pid 1), so the namespace is pid 1's and goes with it, whatever launched it.
        if (options.PrivateNetwork)
            s.AppendLine("[ \"${1:-}\" = in-netns ] || exec unshare --net /bin/bash --norc --noprofile \"$0\" in-netns");
        // The machine's /proc is still mounted here, so /proc/self names this process in the machine's pid namespace.
        s.AppendLine("cd -P /proc/self\nouter=${PWD#/proc/}\ncd /");
        // Into the host's cgroup before anything else, while this is still the machine's cgroup namespace
        // (from inside a cgroup namespace a process cannot leave it). Only pid 1 moves: the launcher stays
        // outside, so the subtree holds the host's processes alone. `0` is the writing process itself.
        if (cgroup is not null) s.AppendLine($"echo 0 > {Quote(cgroup + "/cgroup.procs")}");
        // A prepared layer (packages installed) becomes the start of this host's upper dir. -a copies the
        // whiteouts (0/0 character devices); --preserve=xattr makes losing an opaque-dir xattr an error.
        if (layout.BaseLayer is { } layer) s.AppendLine($"cp -a --preserve=xattr {Quote(layer)}/. {Quote(layout.Upper)}/");
        s.AppendLine($"mount -t overlay overlay -o lowerdir=/,upperdir={Quote(layout.Upper)},workdir={Quote(layout.Work)} {m}");

        // Fresh proc for the new pid namespace. /proc/sys is read-only: the host shares the machine's kernel.
        s.AppendLine($"mount -t proc -o nosuid,nodev,noexec proc {m}/proc");
        s.AppendLine($"mount --bind {m}/proc/sys {m}/proc/sys");
        // Except /proc/sys/net in a private network namespace: those sysctls are the host's own. Bound
        // before /proc/sys turns read-only, so this mount keeps read-write.
        if (options.PrivateNetwork) s.AppendLine($"mount --bind {m}/proc/sys/net {m}/proc/sys/net\nip link set lo up");
        s.AppendLine($"mount -o remount,bind,ro {m}/proc/sys");
        s.AppendLine($"mount -t sysfs -o ro,nosuid,nodev,noexec sysfs {m}/sys");
        // systemd finds its cgroup2 at /sys/fs/cgroup: the host's subtree, writable, and nothing above it
        // (cgroup2 in unified mode whatever the machine's layout; in its cgroup namespace the subtree is `/`).
        if (cgroup is not null) s.AppendLine($"mount --bind {Quote(cgroup)} {m}/sys/fs/cgroup");

        // A minimal /dev: character devices a Debian userland needs, its own devpts, no block devices.
        s.AppendLine($"mount -t tmpfs -o nosuid,noexec,mode=755,size=256k devtmp {m}/dev\ncd {m}/dev");
        s.AppendLine("mknod -m 666 null c 1 3\nmknod -m 666 zero c 1 5\nmknod -m 666 full c 1 7");
        s.AppendLine("mknod -m 666 random c 1 8\nmknod -m 666 urandom c 1 9\nmknod -m 666 tty c 5 0");
        s.AppendLine("mkdir pts shm mqueue");
        s.AppendLine("ln -s pts/ptmx ptmx\nln -s /proc/self/fd fd\nln -s /proc/self/fd/0 stdin\nln -s /proc/self/fd/1 stdout\nln -s /proc/self/fd/2 stderr");
        s.AppendLine("mount -t devpts -o newinstance,nosuid,noexec,ptmxmode=0666,mode=0620 devpts pts");
        s.AppendLine("mount -t tmpfs -o nosuid,nodev,mode=1777 shm shm");
        s.AppendLine("mount -t mqueue -o nosuid,nodev,noexec mqueue mqueue");
        s.AppendLine("cd /");

        // Fresh /run and /tmp. The tmpfs on /tmp also hides the fixture's state dir and every test temp dir.
        s.AppendLine($"mount -t tmpfs -o nosuid,nodev,mode=755 run {m}/run");
        s.AppendLine($"mount -t tmpfs -o nosuid,nodev,mode=1777 tmp {m}/tmp");

        foreach (var path in options.MaskedPaths)
        {
            var target = Quote(layout.Merged + Normalize(path));
            s.AppendLine($"if [ -d {target} ]; then mount -t tmpfs -o ro,mode=000,size=4k masked {target}; elif [ -e {target} ]; then mount --bind /dev/null {target}; fi");
        }

        var binds = options.ReadOnlyBinds.ToList();
        if (convergeDirectory is not null) binds.Add(new HostBind(convergeDirectory, ConvergeMountPoint));
        foreach (var bind in binds)
        {
            var target = Quote(layout.Merged + Normalize(bind.Target));
            var create = Directory.Exists(bind.Source) ? $"mkdir -p {target}" : $"mkdir -p \"$(dirname {target})\"\ntouch {target}";
            s.AppendLine($"{create}\nmount --bind {Quote(bind.Source)} {target}\nmount -o remount,bind,ro {target}");
        }

        // Root's .bashrc on these machines starts pyenv (~1 s per shell): give root Debian's defaults.
        s.AppendLine($"cp /usr/share/base-files/dot.bashrc {m}/root/.bashrc\ncp /usr/share/base-files/dot.profile {m}/root/.profile");
        s.AppendLine($"hostname {Quote(options.Hostname)}\necho {Quote(options.Hostname)} > {m}/etc/hostname");

        if (systemd) AppendUnitMasks(s, layout, options.KeptUnits);

        // pivot_root, then detach the machine's root: a chroot could be escaped and would keep / reachable.
        s.AppendLine($"mkdir -p {m}/.converge-old-root\ncd {m}\npivot_root . .converge-old-root");
        s.AppendLine("cd /\numount -l /.converge-old-root\nrmdir /.converge-old-root");

        s.AppendLine("echo \"ready $outer\"");
        if (systemd)
            // The cgroup namespace is created last, by the process that becomes systemd (same pid, still 1),
            // so its root is the subtree entered above. `env -i`: systemd builds its services' environment
            // itself; `container=` tells it it is not a machine (no udev, no reboot(), no hardware units).
            s.AppendLine($"exec unshare --cgroup setpriv --bounding-set {DroppedCapabilities} env -i container={ContainerName} /lib/systemd/systemd </dev/null >/dev/null 2>&1");
        else
            s.AppendLine($"exec setpriv --bounding-set {DroppedCapabilities} /bin/bash --norc --noprofile -c {Quote(InitLoop)} >/dev/null 2>&1");
        return s.ToString();
    }

    // Every unit the machine's admin enabled (links in /etc/systemd/system/*.wants, *.requires) is masked in
    // the host unless kept: the host shares the machine's network and its /, so a second postgres, cfengine
    // or timesyncd would fight the machine's. An instance (getty@tty1.service) is masked as itself.
    private static void AppendUnitMasks(StringBuilder s, HostLayout layout, IReadOnlyList<string> kept)
    {
        var etc = Quote(layout.Merged + "/etc/systemd/system");
        s.AppendLine($"mkdir -p {etc}");
        s.AppendLine("for link in /etc/systemd/system/*.wants/* /etc/systemd/system/*.requires/*; do");
        s.AppendLine("  [ -L \"$link\" ] || [ -e \"$link\" ] || continue");
        s.AppendLine("  unit=${link##*/}");
        if (kept.Count > 0) s.AppendLine($"  case $unit in {string.Join('|', kept.Select(Quote))}) continue ;; esac");
        s.AppendLine($"  ln -sfn /dev/null {etc}/\"$unit\"");
        s.AppendLine("done");
    }

    /// <summary>Quotes a string for a POSIX shell.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private static string Normalize(string path)
    {
        if (!path.StartsWith('/')) throw new ArgumentException($"host paths are absolute: {path}");
        return path.TrimEnd('/');
    }
}
