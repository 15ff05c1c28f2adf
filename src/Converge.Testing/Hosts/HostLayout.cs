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

    /// <summary>A prepared upper directory (<see cref="PackageLayers"/>) the setup copies into <see cref="Upper"/> before mounting the overlay.</summary>
    public string? BaseLayer { get; set; }

    /// <summary>When set, <see cref="Delete"/> first moves <see cref="Upper"/> there (unless that path already exists).</summary>
    public string? KeepUpperAt { get; set; }

    public void Delete()
    {
        IOException? notKept = null;
        if (KeepUpperAt is { } keep && Directory.Exists(Upper))
        {
            // One rename on the same filesystem: whiteouts and overlay xattrs stay as the kernel wrote them,
            // and the kept directory appears complete or not at all.
            try { Directory.Move(Upper, keep); }
            catch (IOException) when (Directory.Exists(keep)) { } // published by someone else first: ours is deleted below
            catch (IOException e)
            {
                notKept = new IOException($"could not move {Upper} to {keep}: {e.Message} (it must be on the filesystem of /tmp; does $CONVERGE_TEST_DEBS point elsewhere?)", e);
            }
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (DirectoryNotFoundException) { }
        if (notKept is not null) throw notKept;
    }
}
