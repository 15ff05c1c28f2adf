namespace Converge.Testing.Hosts;

/// <summary>
/// A local apt repository inside a throwaway host: tiny packages built there with dpkg-deb (each with
/// a conffile <c>/etc/NAME.conf</c> holding <c>setting=default-VERSION</c> and <c>/usr/share/NAME/VERSION</c>),
/// indexed with dpkg-scanpackages at <c>file:/srv/repo</c>, made apt's only source, and <c>apt-get update</c>
/// run. Package tests get real dpkg/apt behaviour (versions, pins, conffiles, purge) with no network.
/// </summary>
public static class LocalAptRepository
{
    /// <summary>Builds <paramref name="packages"/> (name, version) and the repository; throws with the host's output when it fails.</summary>
    public static async Task CreateAsync(ThrowawayHost host, params (string Name, string Version)[] packages)
    {
        var builds = string.Join("\n", packages.Select(p => $"mk {p.Name} {p.Version}"));
        var setup = await host.ShAsync($$"""
            set -e
            mk() {
              d=/tmp/build/$1-$2
              mkdir -p $d/DEBIAN $d/usr/share/$1 $d/etc
              printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Converge tests <tests@example.invalid>\nDescription: Converge test package\n' $1 $2 > $d/DEBIAN/control
              echo /etc/$1.conf > $d/DEBIAN/conffiles
              echo $2 > $d/usr/share/$1/VERSION
              echo "setting=default-$2" > $d/etc/$1.conf
              dpkg-deb --root-owner-group --build $d /srv/repo/$1_$2_all.deb >/dev/null
            }
            mkdir -p /srv/repo
            {{builds}}
            cd /srv/repo
            dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null
            rm -f /etc/apt/sources.list.d/* /var/lib/apt/lists/*_*
            : > /etc/apt/sources.list
            echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list.d/cvg.list
            apt-get update -q
            """, timeout: TimeSpan.FromMinutes(2));
        if (setup.ExitCode != 0) throw new InvalidOperationException("local apt repository setup failed: " + setup);
    }
}
