using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Converge.Testing.Hosts;
using Xunit.Abstractions;

namespace Converge.SystemTests;

/// <summary>
/// The SSH fleet fixture: hosts with their own link and sshd, reached from the machine with the real
/// OpenSSH client and strict host key checking. Address blocks used here: 169.254.41.0 to 169.254.44.255
/// (other tests pick their own; see <see cref="FleetOptions.AddressBlock"/>).
/// </summary>
[Collection(nameof(MachineLeakTests))]
public class FleetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeHosts_RootAndDeployBySsh_EachSeesOnlyItsOwnLink_NoDotnet_TeardownLeavesNothing()
    {
        var before = MachineSnapshot.Take();
        var cgroupsBefore = OwnCgroupTree();
        var watch = Stopwatch.StartNew();
        var fleet = await Fleet.StartAsync(3, new FleetOptions { AddressBlock = "169.254.41.0", NamePrefix = "web-" });
        var up = watch.Elapsed;
        var links = fleet.Hosts.Select(h => h.Link.MachineName).ToList();
        var pidNamespaces = fleet.Hosts.Select(h => h.Host.PidNamespace).ToList();
        var stateDirs = fleet.Hosts.Select(h => h.Host.StateDirectory).ToList();
        string directory;
        await using (fleet)
        {
            directory = fleet.Directory;
            fleet.Hosts.Select(h => h.Address.ToString()).ShouldBe(["169.254.41.2", "169.254.41.6", "169.254.41.10"]);
            links.Distinct().Count().ShouldBe(3);
            File.ReadAllLines(fleet.KnownHostsPath).ShouldBe(fleet.Hosts.Select(h => $"{h.Address} {h.HostPublicKey}"));
            fleet.Hosts.Select(h => h.HostKeyFingerprint).Distinct().Count().ShouldBe(3, "every host has its own key");

            for (var i = 0; i < 3; i++)
            {
                var host = fleet.Hosts[i];
                // The machine end holds .1 of the host's /30.
                (await MachineCommand.CheckAsync(["ip", "-o", "-4", "addr", "show", "dev", host.Link.MachineName])).Stdout
                    .ShouldContain($"inet 169.254.41.{4 * i + 1}/30");

                var root = await fleet.SshAsync(host, "root", """
                    hostname; id -un
                    ip -o link | cut -d' ' -f2; ip -o -4 addr | awk '{print $2, $4}'; ip route
                    echo "dotnet=$(command -v dotnet)" "DOTNET_ROOT=${DOTNET_ROOT:-}"; find /usr/share/dotnet /root/.dotnet -mindepth 1 | wc -l
                    ss -Hltn | awk '{print $4}'
                    ls /etc/ssh/ | grep host_
                    """);
                root.ExitCode.ShouldBe(0, root.ToString());
                output.WriteLine(root.Stdout);
                root.Stdout.ShouldBe($"""
                    web-{i + 1}
                    root
                    lo:
                    eth0@if{IfIndex(host.Link.MachineName)}:
                    lo 127.0.0.1/8
                    eth0 {host.Address}/30
                    169.254.41.{4 * i}/30 dev eth0 proto kernel scope link src {host.Address} 
                    dotnet= DOTNET_ROOT=
                    0
                    {host.Address}:22
                    ssh_host_ed25519_key
                    ssh_host_ed25519_key.pub

                    """, "its own link and address, no default route, no dotnet, sshd on its own address only, its own key only");

                var deploy = await fleet.SshAsync(host, SshHost.DeployUser, "id -un && sudo -n id -u");
                deploy.ExitCode.ShouldBe(0, deploy.ToString());
                deploy.Stdout.ShouldBe("deploy\n0\n");
                var maint = await fleet.SshAsync(host, SshHost.PasswordSudoUser, "sudo -n true");
                maint.ExitCode.ShouldBe(1, maint.ToString());
                maint.Stderr.ShouldContain("a password is required");
                var withPassword = await fleet.SshAsync(host, SshHost.PasswordSudoUser, "sudo -S -p '' id -u", stdin: host.PasswordSudoPassword + "\n");
                withPassword.Stdout.ShouldBe("0\n", withPassword.ToString());
            }

            // A host's only route is its own /30: another host's address is unreachable from it.
            var across = await fleet.Hosts[0].Host.ShAsync($"timeout 5 bash -c 'echo > /dev/tcp/{fleet.Hosts[1].Address}/22' 2>&1");
            across.ExitCode.ShouldNotBe(0);
            across.Stdout.ShouldContain("Network is unreachable");
            // Without its key a client gets nowhere: the server offers public-key authentication only.
            var password = await MachineCommand.RunAsync([.. fleet.SshCommand(fleet.Hosts[0], SshHost.PasswordSudoUser), "-o", "PubkeyAuthentication=no", "--", "true"]);
            password.ExitCode.ShouldBe(255);
            password.Stderr.ShouldContain("Permission denied (publickey)");
        }
        var down = watch.Elapsed - up;
        output.WriteLine($"3 hosts: up {up.TotalSeconds:0.0} s, down {down.TotalSeconds:0.0} s");

        foreach (var link in links) Directory.Exists("/sys/class/net/" + link).ShouldBeFalse($"{link} went with its host's namespace");
        (await MachineCommand.CheckAsync(["ip", "-o", "addr"])).Stdout.ShouldNotContain("169.254.41.");
        foreach (var ns in pidNamespaces) ThrowawayHost.ProcessesIn(ns).ShouldBeEmpty();
        Directory.Exists(directory).ShouldBeFalse();
        var after = MachineSnapshot.Take();
        after.Mounts.ShouldBe(before.Mounts);
        after.Databases.ShouldBe(before.Databases);
        // Only this fleet's state dirs: other test runs on the machine may have hosts of their own up.
        foreach (var dir in stateDirs) Directory.Exists(dir).ShouldBeFalse();
        after.NewDescendants(before).ShouldBeEmpty();
        OwnCgroupTree().ShouldBe(cgroupsBefore, "hosts create no cgroups");
    }

    [Fact]
    public async Task ChangedHostKey_IsRefused_StoppedSshdOrDownLink_IsUnreachable_OtherHostsUnaffected()
    {
        await using var fleet = await Fleet.StartAsync(2, new FleetOptions { AddressBlock = "169.254.42.0" });
        var (changed, other) = (fleet.Hosts[0], fleet.Hosts[1]);
        var old = changed.HostKeyFingerprint;
        var fresh = await changed.RegenerateHostKeyAsync();
        fresh.ShouldNotBe(old);
        changed.HostKeyFingerprint.ShouldBe(fresh);
        // ssh-keyscan confirms what the host offers now.
        var scan = await MachineCommand.CheckAsync(["ssh-keyscan", "-t", "ed25519", changed.Address.ToString()]);
        scan.Stdout.ShouldContain(changed.HostPublicKey);

        var refused = await fleet.SshAsync(changed, "root", "true");
        refused.ExitCode.ShouldBe(255);
        refused.Stderr.ShouldContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
        refused.Stderr.ShouldContain(fresh);
        (await fleet.SshAsync(other, "root", "true")).ExitCode.ShouldBe(0);
        fleet.WriteKnownHosts();
        (await fleet.SshAsync(changed, "root", "true")).ExitCode.ShouldBe(0, "trusted once known_hosts has the new key");

        await changed.StopSshdAsync();
        (await changed.SshdRunningAsync()).ShouldBeFalse();
        var stopped = await fleet.SshAsync(changed, "root", "true");
        stopped.ExitCode.ShouldBe(255);
        stopped.Stderr.ShouldContain("Connection refused");
        (await fleet.SshAsync(other, "root", "true")).ExitCode.ShouldBe(0);
        await changed.StartSshdAsync();
        (await fleet.SshAsync(changed, "root", "true")).ExitCode.ShouldBe(0);

        // A dead link (the host's end down): connections time out instead of being refused.
        await changed.Link.SetUpAsync(false);
        using (var client = new TcpClient())
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await Should.ThrowAsync<OperationCanceledException>(async () => await client.ConnectAsync(changed.Endpoint, limit.Token));
        await changed.Link.SetUpAsync(true);
        (await fleet.SshAsync(changed, "root", "true")).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Relay_AddsItsDelayEachWay_ToAnSshSession()
    {
        await using var fleet = await Fleet.StartAsync(1, new FleetOptions { AddressBlock = "169.254.43.0" });
        var host = fleet.Hosts[0];
        var relay = fleet.StartRelay(host, TimeSpan.FromMilliseconds(25));
        var direct = await EchoRoundTrip(fleet, host, via: null);
        var delayed = await EchoRoundTrip(fleet, host, relay.Endpoint);
        output.WriteLine($"ssh echo round trip: direct {direct.TotalMilliseconds:0.0} ms, through a 25 ms relay {delayed.TotalMilliseconds:0.0} ms");
        relay.Accepted.ShouldBe(1);
        delayed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50), "each way holds 25 ms");
        delayed.ShouldBeLessThan(direct + TimeSpan.FromMilliseconds(250), "and not much more (loaded machine)");
    }

    /// <summary>Median time for a line to come back from <c>cat</c> over one SSH session (the connection set up first, not timed).</summary>
    private static async Task<TimeSpan> EchoRoundTrip(Fleet fleet, SshHost host, IPEndPoint? via)
    {
        var argv = fleet.SshCommand(host, "root", via);
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1).Concat(["--", "cat"])) psi.ArgumentList.Add(a);
        using var ssh = Process.Start(psi)!;
        var samples = new List<TimeSpan>();
        for (var i = 0; i < 11; i++)
        {
            var watch = Stopwatch.StartNew();
            await ssh.StandardInput.WriteLineAsync("ping " + i);
            await ssh.StandardInput.FlushAsync();
            (await ssh.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))).ShouldBe("ping " + i);
            if (i > 0) samples.Add(watch.Elapsed);   // the first line also waits for the session to open
        }
        ssh.StandardInput.Close();
        await ssh.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        ssh.ExitCode.ShouldBe(0, await ssh.StandardError.ReadToEndAsync());
        return samples.Order().ElementAt(samples.Count / 2);
    }

    private static string IfIndex(string link) => File.ReadAllText($"/sys/class/net/{link}/ifindex").Trim();

    /// <summary>Every cgroup below the test process's own (v2 path from /proc/self/cgroup).</summary>
    private static List<string> OwnCgroupTree()
    {
        var path = File.ReadLines("/proc/self/cgroup").First(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];
        var root = Directory.Exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
        var dir = root + path;
        return Directory.Exists(dir) ? [.. Directory.GetDirectories(dir, "*", SearchOption.AllDirectories).Order()] : ["(no cgroup dir " + dir + ")"];
    }
}
