using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>
/// <see cref="HostOptions.Packages"/>: hosts start with packages from a prepared layer, built once and
/// copied into each host's upper directory with overlayfs's whiteouts and opaque directories intact.
/// Hosts here do not mount converge: only the packages and the overlay matter.
/// </summary>
public class PackageLayerTests
{
    [Fact]
    public async Task Packages_TwoHostsAtOnce_OneLayerBuild_InstalledInHostsOnly()
    {
        var status = MachineSnapshot.Md5("/var/lib/dpkg/status");
        var options = new HostOptions { MountConverge = false, Packages = ["sudo", "runit", "cron"] };
        var starts = new[] { Task.Run(() => ThrowawayHost.Start(options)), Task.Run(() => ThrowawayHost.Start(options)) };
        await using var a = await starts[0];
        await using var b = await starts[1];

        var layer = Path.Combine(PackageLayers.Shared.Root, PackageLayers.Key(["cron", "runit", "sudo"], Path.Combine(DebCache.Root, "cron+runit+sudo")));
        Directory.Exists(layer).ShouldBeTrue(layer);
        Directory.GetDirectories(PackageLayers.Shared.Root, "cron+runit+sudo-*").ShouldBe([layer], "older layers of the set are pruned");
        foreach (var host in new[] { a, b })
        {
            var query = await host.RunAsync(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", "runit", "sudo", "cron"]);
            query.Stdout.ShouldBe("cron installed\nrunit installed\nsudo installed\n", query.ToString());
            (await host.RunAsync(["sudo", "-n", "true"])).ExitCode.ShouldBe(0);
            (await host.RunAsync(["/usr/sbin/policy-rc.d"])).ExitCode.ShouldBe(101, "the layer keeps DebCache's policy-rc.d");
            (await host.RunAsync(["pgrep", "-x", "cron"])).ExitCode.ShouldBe(1, "no daemon was started");
        }

        // Each host writes to its own copy: neither the layer nor the other host sees the change.
        var sudoers = await File.ReadAllBytesAsync(Path.Combine(layer, "etc/sudoers"));
        (await a.ShAsync("echo '# host a' >> /etc/sudoers")).ExitCode.ShouldBe(0);
        (await File.ReadAllBytesAsync(Path.Combine(layer, "etc/sudoers"))).ShouldBe(sudoers);
        (await b.RunAsync(["grep", "-c", "host a", "/etc/sudoers"])).Stdout.Trim().ShouldBe("0");

        MachineSnapshot.Md5("/var/lib/dpkg/status").ShouldBe(status);
        File.Exists("/usr/bin/sudo").ShouldBeFalse("sudo exists only in the hosts");
    }

    [Fact]
    public async Task EmptyStore_ThreeRequestsAtOnce_OneBuild_ThatHostsStartFrom()
    {
        var store = new PackageLayers(Path.Combine("/tmp", "converge-layers-" + Guid.NewGuid().ToString("N")[..12]));
        try
        {
            var layers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => store.GetAsync(["runit", "sudo", "cron"]))));

            store.BuildsOf("cron+runit+sudo").ShouldBe(1, "requests for the same set wait for one build");
            layers.Distinct().ShouldHaveSingleItem();
            Directory.GetDirectories(store.Root).ShouldBe([layers[0]], "the build host's upper dir became the layer; nothing else is left");
            await using var host = ThrowawayHost.Start(new HostOptions { MountConverge = false, BaseLayer = layers[0] });
            var query = await host.RunAsync(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", "runit", "sudo", "cron"]);
            query.Stdout.ShouldBe("cron installed\nrunit installed\nsudo installed\n", query.ToString());
        }
        finally
        {
            if (Directory.Exists(store.Root)) Directory.Delete(store.Root, recursive: true);
        }
    }

    [Fact]
    public async Task KeptUpper_AsBaseLayer_KeepsDeletionsAndReplacedDirectories()
    {
        var layer = Path.Combine("/tmp", "converge-layer-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await using (var first = ThrowawayHost.Start(new HostOptions { MountConverge = false }))
            {
                // A deleted machine file (a whiteout), a machine directory replaced by a new one (opaque), a new tree.
                var change = await first.ShAsync("set -e; rm /etc/debian_version; rm -rf /etc/skel; mkdir /etc/skel; echo mine > /etc/skel/only; mkdir -p /srv/layer-new; echo new > /srv/layer-new/file");
                change.ExitCode.ShouldBe(0, change.ToString());
                first.KeepUpperAfterTeardown(layer);
            }
            Directory.Exists(layer).ShouldBeTrue("teardown moved the upper dir");

            await using var second = ThrowawayHost.Start(new HostOptions { MountConverge = false, BaseLayer = layer });
            (await second.RunAsync(["test", "-e", "/etc/debian_version"])).ExitCode.ShouldBe(1, "the whiteout was copied");
            (await second.RunAsync(["ls", "-A", "/etc/skel"])).Stdout.ShouldBe("only\n", "the opaque xattr was copied: the machine's skeleton files stay hidden");
            (await second.RunAsync(["cat", "/srv/layer-new/file"])).Stdout.ShouldBe("new\n");

            (await second.ShAsync("echo changed > /etc/skel/only")).ExitCode.ShouldBe(0);
            (await File.ReadAllTextAsync(Path.Combine(layer, "etc/skel/only"))).ShouldBe("mine\n", "the host writes to its copy, not to the layer");
            File.Exists("/etc/debian_version").ShouldBeTrue();
            File.Exists("/etc/skel/.bashrc").ShouldBeTrue();
            Directory.Exists("/srv/layer-new").ShouldBeFalse();
        }
        finally
        {
            if (Directory.Exists(layer)) Directory.Delete(layer, recursive: true);
        }
    }

    [Fact]
    public void Key_ChangesWithTheMachinesDatabases_TheDebsAndTheSet()
    {
        var root = Path.Combine("/tmp", "converge-layerkey-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var debs = Directory.CreateDirectory(Path.Combine(root, "debs")).FullName;
            File.WriteAllText(Path.Combine(debs, ".complete"), "cron_3.0pl1-162_amd64.deb\n");
            var machine = Path.Combine(root, "machine");
            foreach (var file in new[] { "var/lib/dpkg/status", "etc/passwd", "etc/group", "etc/shadow", "etc/gshadow", "proc/sys/kernel/osrelease" })
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(machine, file))!);
                File.WriteAllText(Path.Combine(machine, file), file + "\n");
            }
            string[] set = ["cron", "runit"];
            var key = PackageLayers.Key(set, debs, machine);
            key.ShouldMatch("^cron\\+runit-[0-9a-f]{16}$");
            PackageLayers.Key(set, debs, machine).ShouldBe(key, "the same inputs give the same layer");
            PackageLayers.Key(["cron", "sudo"], debs, machine).ShouldNotBe(key);

            foreach (var file in new[] { "etc/passwd", "etc/gshadow", "var/lib/dpkg/status", "var/lib/dpkg/diversions" })
            {
                var path = Path.Combine(machine, file);
                var old = File.Exists(path) ? File.ReadAllText(path) : null;
                File.WriteAllText(path, "changed\n");
                PackageLayers.Key(set, debs, machine).ShouldNotBe(key, $"a changed {file} invalidates the layer");
                if (old is null) File.Delete(path); else File.WriteAllText(path, old);
            }
            File.WriteAllText(Path.Combine(debs, ".complete"), "cron_3.0pl1-163_amd64.deb\n");
            PackageLayers.Key(set, debs, machine).ShouldNotBe(key, "a refetched .deb invalidates the layer");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Packages_BadName_FailsNamingIt()
    {
        var error = Should.Throw<HostStartException>(() => ThrowawayHost.Start(new HostOptions { Packages = ["runit", "Sudo; rm"] }));
        error.Message.ShouldContain("not a Debian package name: \"Sudo; rm\"");
    }
}
