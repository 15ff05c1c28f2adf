using System.Globalization;
using System.Net;

namespace Converge.Testing.Hosts;

/// <summary>How a <see cref="Fleet"/> is built.</summary>
public sealed record FleetOptions
{
    /// <summary>
    /// The first host's /30 (e.g. <c>169.254.41.0</c>); host <c>i</c> (from 0) gets the /30 that starts
    /// <c>4·i</c> addresses later, its machine end .1 and its own address .2 of it. Chosen by each test so that
    /// tests running at once never share a block: only 169.254.0.0/16, see <see cref="HostLink"/>.
    /// </summary>
    public required string AddressBlock { get; init; }

    /// <summary>Host names are this prefix and the host's number from 1 (<c>host-1</c>, <c>host-2</c>, …).</summary>
    public string NamePrefix { get; init; } = "host-";

    /// <summary>How many hosts are set up at once (each runs apt and ssh-keygen; the machine may have 2 cores).</summary>
    public int StartParallelism { get; init; } = 4;

    public TimeSpan HostStartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Several <see cref="SshHost"/>s up at once, and the client side on the machine: an ed25519 client key
/// pair accepted by every host's root, deploy and maint users, and a known_hosts file with every host's
/// key, both in a temp directory on the machine (<see cref="Directory"/>, <c>/tmp/converge-fleet-*</c>).
/// </summary>
/// <example>
/// <code>
/// await using var fleet = await Fleet.StartAsync(3, new FleetOptions { AddressBlock = "169.254.41.0" });
/// var run = await fleet.SshAsync(fleet.Hosts[0], "deploy", "sudo -n true");
/// // converge ssh --known-hosts fleet.KnownHostsPath, identity fleet.ClientKeyPath, root@fleet.Hosts[i].Address
/// </code>
/// </example>
public sealed class Fleet : IAsyncDisposable
{
    private readonly List<SshHost> _hosts;
    private readonly List<TcpDelayRelay> _relays = [];
    private readonly List<string> _extraKnownHosts = [];
    private int _disposed;

    private Fleet(string directory, List<SshHost> hosts)
    {
        Directory = directory;
        _hosts = hosts;
    }

    public IReadOnlyList<SshHost> Hosts => _hosts;

    /// <summary>The fleet's directory on the machine (mode 700), removed on dispose.</summary>
    public string Directory { get; }

    /// <summary>The client's private key (OpenSSH format, no passphrase).</summary>
    public string ClientKeyPath => System.IO.Path.Combine(Directory, "id_ed25519");

    public string ClientPublicKey => File.ReadAllText(ClientKeyPath + ".pub").Trim();

    /// <summary>
    /// known_hosts with each host's key as it was at start (plus relays' endpoints): a host whose key was
    /// regenerated since is a changed key for clients using this file.
    /// </summary>
    public string KnownHostsPath => System.IO.Path.Combine(Directory, "known_hosts");

    /// <summary>Starts <paramref name="count"/> hosts on consecutive /30s from <see cref="FleetOptions.AddressBlock"/>. A failed start leaves nothing behind.</summary>
    public static async Task<Fleet> StartAsync(int count, FleetOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var first = HostLink.CheckBlock(IPAddress.Parse(options.AddressBlock));
        var blocks = Enumerable.Range(0, count).Select(i => HostLink.ToAddress(first + 4u * (uint)i)).ToList();
        foreach (var block in blocks) HostLink.CheckBlock(block);

        var directory = System.IO.Path.Combine("/tmp", "converge-fleet-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var started = new SshHost?[count];
        try
        {
            var key = System.IO.Path.Combine(directory, "id_ed25519");
            await MachineCommand.CheckAsync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "converge-test-fleet", "-f", key]);
            var publicKey = File.ReadAllText(key + ".pub");
            using var gate = new SemaphoreSlim(Math.Max(1, options.StartParallelism));
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
            {
                await gate.WaitAsync();
                try { started[i] = await SshHost.StartAsync(options.NamePrefix + (i + 1).ToString(CultureInfo.InvariantCulture), blocks[i], publicKey, options.HostStartTimeout); }
                finally { gate.Release(); }
            }));
            var fleet = new Fleet(directory, [.. started.Select(h => h!)]);
            fleet.WriteKnownHosts();
            return fleet;
        }
        catch
        {
            foreach (var host in started)
                if (host is not null)
                    try { await host.DisposeAsync(); } catch (Exception) { /* the start's error is the one to report */ }
            System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Rewrites known_hosts from the hosts' current keys (after <see cref="SshHost.RegenerateHostKeyAsync"/>,
    /// when a test wants the new key trusted), keeping relay entries. Written to a temp file and renamed.
    /// </summary>
    public void WriteKnownHosts()
    {
        var lines = _hosts.Select(h => h.KnownHostsLine()).Concat(_extraKnownHosts);
        var temp = KnownHostsPath + ".tmp";
        File.WriteAllText(temp, string.Join('\n', lines) + "\n");
        File.Move(temp, KnownHostsPath, overwrite: true);
    }

    /// <summary>
    /// Starts a <see cref="TcpDelayRelay"/> on the machine's loopback in front of <paramref name="host"/>'s
    /// sshd, delaying each direction by <paramref name="delay"/>, and trusts the host's key under the
    /// relay's endpoint in known_hosts. Stopped with the fleet.
    /// </summary>
    public TcpDelayRelay StartRelay(SshHost host, TimeSpan delay)
    {
        var relay = TcpDelayRelay.Start(host.Endpoint, delay);
        _relays.Add(relay);
        _extraKnownHosts.Add(host.KnownHostsLine(relay.Endpoint));
        WriteKnownHosts();
        return relay;
    }

    /// <summary>
    /// The machine's OpenSSH client command for <paramref name="user"/> at <paramref name="host"/> (or at
    /// <paramref name="via"/>, a relay's endpoint): this fleet's key only, its known_hosts only, strict host
    /// key checking, no prompts, no user or system ssh_config.
    /// </summary>
    public IReadOnlyList<string> SshCommand(SshHost host, string user, IPEndPoint? via = null)
    {
        var endpoint = via ?? host.Endpoint;
        return ["ssh", "-F", "/dev/null", "-i", ClientKeyPath, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "UserKnownHostsFile=" + KnownHostsPath, "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "LogLevel=ERROR", "-p", endpoint.Port.ToString(CultureInfo.InvariantCulture), $"{user}@{endpoint.Address}"];
    }

    /// <summary>Runs <paramref name="command"/> as <paramref name="user"/> on <paramref name="host"/> with the machine's ssh (see <see cref="SshCommand"/>).</summary>
    public Task<HostCommandResult> SshAsync(SshHost host, string user, string command, IPEndPoint? via = null, string? stdin = null, TimeSpan? timeout = null) =>
        MachineCommand.RunAsync([.. SshCommand(host, user, via), "--", command], stdin, timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>Stops relays, tears every host down (checking each one's link is gone) and deletes <see cref="Directory"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var errors = new List<Exception>();
        foreach (var relay in _relays) await relay.DisposeAsync();
        // Hosts go down in parallel: each teardown mostly waits for the kernel.
        var teardowns = _hosts.Select(async h =>
        {
            try { await h.DisposeAsync(); }
            catch (Exception e) { lock (errors) errors.Add(e); }
        });
        await Task.WhenAll(teardowns);
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (DirectoryNotFoundException) { }
        if (errors.Count > 0) throw new AggregateException("fleet teardown", errors);
    }
}
