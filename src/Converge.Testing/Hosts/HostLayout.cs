namespace Converge.Testing.Hosts;

/// <summary>
/// The fixture's state directory for one host on the machine: <c>/tmp/converge-host-*</c> with the
/// overlay's upper, work and merged directories. Always under <c>/tmp</c>, which every host covers with
/// its own tmpfs, so a host never sees its own (or another host's) state.
/// </summary>
internal sealed class HostLayout
{
    public const string Prefix = "converge-host-";

    private HostLayout(string root)
    {
        Root = root;
        Id = System.IO.Path.GetFileName(root)[Prefix.Length..];
        Directory.CreateDirectory(Upper);
        Directory.CreateDirectory(Work);
        Directory.CreateDirectory(Merged);
    }

    public static HostLayout Create()
    {
        // Not Path.GetTempPath(): $TMPDIR may point outside /tmp, where the host's /tmp would not hide it.
        var root = Path.Combine("/tmp", Prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new HostLayout(root);
    }

    public string Root { get; }

    /// <summary>The random part of the name, shared by everything of this host on the machine (its cgroup).</summary>
    public string Id { get; }

    /// <summary>Everything the host wrote (overlayfs upper layer); deletions show as 0/0 character devices.</summary>
    public string Upper => Path.Combine(Root, "upper");

    public string Work => Path.Combine(Root, "work");

    /// <summary>The overlay's mount point; mounted only inside the host's mount namespace, empty on the machine.</summary>
    public string Merged => Path.Combine(Root, "merged");

    public string SetupScript => Path.Combine(Root, "setup.sh");

    /// <summary>The launcher of a systemd host (<see cref="HostInit.Systemd"/>): the watchdog around <c>unshare</c>.</summary>
    public string LaunchScript => Path.Combine(Root, "launch.sh");

    public void Delete()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
