namespace Converge.Testing.Hosts;

/// <summary>
/// How a <see cref="ThrowawayHost"/> is built. Every option is applied by the host's one setup script
/// (<see cref="HostSetupScript"/>), before <c>pivot_root</c>, while the machine's paths are still reachable.
/// </summary>
/// <remarks>
/// Network: without <see cref="PrivateNetwork"/> the host shares the machine's network, so <c>/proc/sys</c>
/// stays read-only as a whole. With it the host gets its own network namespace holding only <c>lo</c>.
/// On top of <see cref="PrivateNetwork"/>, <see cref="HostLink.AttachAsync"/> gives a started host a veth
/// pair to the machine (link-local /30, host end <c>eth0</c>, no <c>ip netns</c> name to leak), and
/// <see cref="Fleet"/> builds SSH-reachable hosts from that.
/// </remarks>
public sealed record HostOptions
{
    /// <summary>The host's name (its own UTS namespace): what <c>hostname</c> and Converge's facts see.</summary>
    public string Hostname { get; init; } = "converge-host";

    /// <summary>
    /// Debian packages the host starts with installed (e.g. <c>["runit", "sudo", "cron"]</c>), as if
    /// <see cref="DebCache.InstallAsync"/> had installed them, including its <c>policy-rc.d</c> that keeps
    /// daemons from starting. The first host that needs a set installs it once; later hosts get a copy of
    /// that prepared layer (<see cref="PackageLayers"/>), so what maintainer scripts generated (e.g. ssh host
    /// keys) is the same in every such host. Empty: the machine's packages only.
    /// </summary>
    public IReadOnlyList<string> Packages { get; init; } = [];

    /// <summary>A prepared upper directory to start from, instead of one made for <see cref="Packages"/> (tests of the fixture).</summary>
    internal string? BaseLayer { get; init; }

    /// <summary>
    /// Bind-mount the test's built <c>converge</c> (the CLI output directory beside the tests) read-only at
    /// <see cref="ThrowawayHost.ConvergeDirectory"/>. It runs on the machine's dotnet, visible through the overlay of <c>/</c>.
    /// </summary>
    public bool MountConverge { get; init; } = true;

    /// <summary>
    /// Machine paths to hide from the host: a directory is covered by an empty read-only tmpfs, a file by
    /// <c>/dev/null</c>. Paths that do not exist are ignored. (<c>/tmp</c> is always a fresh tmpfs, which
    /// already hides the fixture's own state directory and every test temp dir under <c>/tmp</c>.)
    /// </summary>
    public IReadOnlyList<string> MaskedPaths { get; init; } = [];

    /// <summary>Machine directories or files made visible read-only inside the host at a given path.</summary>
    public IReadOnlyList<HostBind> ReadOnlyBinds { get; init; } = [];

    /// <summary>
    /// Give the host its own network namespace (<c>unshare --net</c>) with only a loopback device, brought
    /// up by setup, and <c>/proc/sys/net</c> writable (its sysctls are per namespace). A daemon in the host
    /// (sshd on port 22) then binds the host's ports, never the machine's, and nothing outside reaches it.
    /// The namespace lives and dies with the host's pid 1. Commands entered with <see cref="ThrowawayHost.RunAsync"/> join it.
    /// </summary>
    public bool PrivateNetwork { get; init; }

    /// <summary>How long setup may take before the start is abandoned with an error (a stuck mount must not hang a test).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// What runs as the host's pid 1: a small bash loop that reaps orphans (the default, ~50 ms to start),
    /// or the machine's systemd (~1 s to boot), for tests of what only a systemd host has (<c>systemctl</c>).
    /// </summary>
    public HostInit Init { get; init; } = HostInit.Shell;

    /// <summary>
    /// With <see cref="HostInit.Systemd"/>: how long <see cref="ThrowawayHost.Start"/> waits, after setup, for
    /// <c>systemctl is-system-running</c> to say <c>running</c> or <c>degraded</c>.
    /// </summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// With <see cref="HostInit.Systemd"/>: units the machine enabled (links in <c>/etc/systemd/system/*.wants</c>
    /// and <c>*.requires</c>) that the host may start. Every other unit the machine enabled is masked in the host
    /// (a link to <c>/dev/null</c> in its <c>/etc/systemd/system</c>): the host shares the machine's network and
    /// its <c>/</c>, so a second postgres or cfengine would fight the machine's for ports and files.
    /// Units that ship enabled with systemd itself (<c>/lib/systemd/system/*.wants</c>: journald, logind, tmpfiles …) run.
    /// </summary>
    public IReadOnlyList<string> KeptUnits { get; init; } = ["ssh.service", "cron.service", "dbus.service", "dbus.socket"];
}

/// <summary>What a <see cref="ThrowawayHost"/> runs as its pid 1.</summary>
public enum HostInit
{
    /// <summary>
    /// A bash loop that reaps orphans and stops when the test process's pipe closes. Services are started
    /// by hand (<c>runsvdir</c>, <c>/etc/init.d/X start</c>).
    /// </summary>
    Shell,

    /// <summary>
    /// <c>/lib/systemd/systemd</c> in its own cgroup namespace over a cgroup2 subtree of the machine
    /// (<c>converge-host-ID</c> beside the fixture's state dir's id), with <c>container=converge-host</c>;
    /// the host is returned once it has booted.
    /// </summary>
    Systemd,
}

/// <summary>A machine path (<paramref name="Source"/>) shown at <paramref name="Target"/> inside a host.</summary>
public sealed record HostBind(string Source, string Target);
