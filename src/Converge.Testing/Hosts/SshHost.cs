using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Converge.Testing.Hosts;

/// <summary>
/// A throwaway host reachable over SSH from the machine, as a managed server would be: its own network
/// namespace with one link (<see cref="HostLink"/>), a real OpenSSH sshd on port 22 of its address only
/// with a freshly generated ed25519 host key, key-only logins for <c>root</c> and <see cref="DeployUser"/>
/// (passwordless sudo) and <see cref="PasswordSudoUser"/> (whose sudo asks for a password), and no
/// <c>dotnet</c> anywhere: what runs there must be self-contained. Started through <see cref="Fleet"/>,
/// which holds the client key and the known_hosts file.
/// </summary>
/// <remarks>
/// openssh-server and sudo come from <see cref="DebCache"/> and are installed only inside the host
/// (<c>policy-rc.d</c> stays, so no maintainer script starts a daemon); the fixture starts sshd itself,
/// directly, not under a service manager, with its log in <c>/var/log/sshd.log</c> inside the host.
/// </remarks>
public sealed class SshHost : IAsyncDisposable
{
    public const int Port = 22;

    /// <summary>A user with <c>NOPASSWD: ALL</c> sudo (in <c>/etc/sudoers.d/deploy</c>) and the fleet's client key.</summary>
    public const string DeployUser = "deploy";

    /// <summary>A user with the fleet's client key whose sudo needs a password (<see cref="PasswordSudoPassword"/>): <c>sudo -n</c> fails.</summary>
    public const string PasswordSudoUser = "maint";

    internal const string HostKeyPath = "/etc/ssh/ssh_host_ed25519_key";
    private const string PidFile = "/run/sshd.pid";
    private static readonly TimeSpan LinkTeardownTimeout = TimeSpan.FromSeconds(30);

    private int _disposed;

    private SshHost(ThrowawayHost host, HostLink link, string password)
    {
        Host = host;
        Link = link;
        PasswordSudoPassword = password;
    }

    /// <summary>The underlying host: <see cref="ThrowawayHost.RunAsync"/> enters it as root without SSH.</summary>
    public ThrowawayHost Host { get; }

    public HostLink Link { get; }

    public string Name => Host.Options.Hostname;

    /// <summary>The host's address (its <c>eth0</c>), where sshd listens.</summary>
    public IPAddress Address => Link.HostAddress;

    public IPEndPoint Endpoint => new(Address, Port);

    /// <summary>The password of <see cref="PasswordSudoUser"/> (random per host; never a login password over SSH, which takes keys only).</summary>
    public string PasswordSudoPassword { get; }

    /// <summary>The host's current public host key, as in known_hosts: <c>ssh-ed25519 AAAA…</c>.</summary>
    public string HostPublicKey { get; private set; } = "";

    /// <summary>The host key's fingerprint as OpenSSH prints it: <c>SHA256:</c> and unpadded base64.</summary>
    public string HostKeyFingerprint => Fingerprint(HostPublicKey);

    /// <summary>A known_hosts line for this host's key under <paramref name="endpoint"/> (default: its own address and port 22).</summary>
    public string KnownHostsLine(IPEndPoint? endpoint = null) => KnownHostsPattern(endpoint ?? Endpoint) + " " + HostPublicKey;

    /// <summary>Starts a host on the /30 at <paramref name="block"/> whose root, deploy and maint users accept <paramref name="clientPublicKey"/>.</summary>
    internal static async Task<SshHost> StartAsync(string name, IPAddress block, string clientPublicKey, TimeSpan startTimeout)
    {
        var (maskedDirs, removedFiles) = DotnetLocations();
        var host = await Task.Run(() => ThrowawayHost.Start(new HostOptions
        {
            Hostname = name,
            PrivateNetwork = true,
            // The test's converge build is framework-dependent: it could not run here, and must not be needed.
            MountConverge = false,
            MaskedPaths = maskedDirs,
            StartTimeout = startTimeout,
        }));
        HostLink? link = null;
        try
        {
            link = await HostLink.AttachAsync(host, block);
            await DebCache.InstallAsync(host, "openssh-server", "sudo");
            var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            var setup = await host.RunAsync(["/bin/bash", "-c", SetupScript, "setup", link.HostAddress.ToString(), clientPublicKey.Trim(), password, .. removedFiles],
                timeout: TimeSpan.FromSeconds(60));
            if (setup.ExitCode != 0) throw new InvalidOperationException($"setting up sshd in host {name} failed: {setup}");
            var sshHost = new SshHost(host, link, password);
            await sshHost.StartSshdAsync();
            return sshHost;
        }
        catch
        {
            await host.DisposeAsync();
            if (link is not null) await link.WaitGoneAsync(LinkTeardownTimeout);
            throw;
        }
    }

    // One process for the whole host side. $1 address, $2 client public key, $3 maint's password, then
    // dotnet files (symlinks) to remove. Everything it writes is in the host's overlay.
    private const string SetupScript = """
        set -eu
        addr=$1 key=$2 password=$3
        shift 3
        # No dotnet: the masked directories are empty, the commands that pointed into them are removed.
        for f in "$@"; do rm -f "$f"; done
        if p=$(command -v dotnet); then echo "dotnet still reachable in the host at $p" >&2; exit 1; fi
        # Nothing to resolve names with: only the host's own link exists.
        echo 'nameserver 127.0.0.1' > /etc/resolv.conf

        # Fresh host keys, this host's own: whatever /etc/ssh held (the package's keys) is gone.
        rm -f /etc/ssh/ssh_host_*
        ssh-keygen -q -t ed25519 -N '' -C "root@$(hostname)" -f /etc/ssh/ssh_host_ed25519_key
        rm -f /etc/ssh/sshd_config.d/*.conf
        cat > /etc/ssh/sshd_config <<EOF
        # Written by the converge test fleet: key-only logins on the host's own address.
        ListenAddress $addr:22
        HostKey /etc/ssh/ssh_host_ed25519_key
        PidFile /run/sshd.pid
        PermitRootLogin prohibit-password
        PubkeyAuthentication yes
        AuthenticationMethods publickey
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM yes
        UseDNS no
        PrintMotd no
        AcceptEnv LANG LC_*
        # Many hosts' clients at once and many channels per connection (the benchmark reuses connections).
        MaxStartups 100:30:200
        MaxSessions 64
        LogLevel VERBOSE
        Subsystem sftp /usr/lib/openssh/sftp-server
        EOF

        authorize() { # user home
            install -d -m 700 -o "$1" -g "$1" "$2/.ssh"
            printf '%s\n' "$key" > "$2/.ssh/authorized_keys"
            chown "$1:$1" "$2/.ssh/authorized_keys"
            chmod 600 "$2/.ssh/authorized_keys"
        }
        authorize root /root
        useradd --create-home --shell /bin/bash deploy
        authorize deploy /home/deploy
        printf 'deploy ALL=(ALL:ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/deploy
        chmod 440 /etc/sudoers.d/deploy
        useradd --create-home --shell /bin/bash maint
        authorize maint /home/maint
        printf 'maint:%s\n' "$password" | chpasswd
        printf 'maint ALL=(ALL:ALL) ALL\n' > /etc/sudoers.d/maint
        chmod 440 /etc/sudoers.d/maint
        visudo -c -q
        install -d -m 755 /run/sshd
        /usr/sbin/sshd -t
        """;

    /// <summary>
    /// Starts sshd (directly, daemonized, logging to <c>/var/log/sshd.log</c> in the host) and returns once
    /// the machine can open a TCP connection to <see cref="Endpoint"/>. Reads the current host key.
    /// </summary>
    public async Task StartSshdAsync()
    {
        var start = await Host.ShAsync($"install -d -m 755 /run/sshd && /usr/sbin/sshd -E /var/log/sshd.log");
        if (start.ExitCode != 0) throw new InvalidOperationException($"sshd did not start in host {Name}: {start}");
        HostPublicKey = string.Join(' ', File.ReadAllText(Host.Path(HostKeyPath + ".pub")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2]);
        // sshd writes its pid file after it listens; the connect proves the machine reaches it over the link.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.ConnectAsync(Endpoint, limit.Token);
                return;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// Stops the listening sshd (connections to port 22 are then refused: an unreachable host). Sessions
    /// already open keep their own processes until they end.
    /// </summary>
    public async Task StopSshdAsync()
    {
        var stop = await Host.ShAsync($"pid=$(cat {PidFile}) && kill \"$pid\" && while kill -0 \"$pid\" 2>/dev/null; do sleep 0.02; done; rm -f {PidFile}");
        if (stop.ExitCode != 0) throw new InvalidOperationException($"stopping sshd in host {Name}: {stop}");
    }

    /// <summary>Whether the pid in sshd's pid file is a live sshd.</summary>
    public async Task<bool> SshdRunningAsync() =>
        (await Host.ShAsync($"[ -f {PidFile} ] && [ \"$(readlink /proc/$(cat {PidFile})/exe)\" = /usr/sbin/sshd ]")).ExitCode == 0;

    /// <summary>
    /// Replaces the host's key with a new one and restarts sshd: clients holding the old key in known_hosts
    /// (the fleet's file is not rewritten) now see a changed host key. Returns the new fingerprint.
    /// </summary>
    public async Task<string> RegenerateHostKeyAsync()
    {
        await StopSshdAsync();
        var keygen = await Host.ShAsync($"rm -f {HostKeyPath} {HostKeyPath}.pub && ssh-keygen -q -t ed25519 -N '' -C \"root@$(hostname)\" -f {HostKeyPath}");
        if (keygen.ExitCode != 0) throw new InvalidOperationException($"new host key in host {Name}: {keygen}");
        await StartSshdAsync();
        return HostKeyFingerprint;
    }

    /// <summary>Tears the host down and checks that its link went with it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await Host.DisposeAsync();
        await Link.WaitGoneAsync(LinkTeardownTimeout);
    }

    /// <summary>OpenSSH's fingerprint of a public key line (<c>type base64 [comment]</c>).</summary>
    public static string Fingerprint(string publicKey)
    {
        var blob = Convert.FromBase64String(publicKey.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
    }

    /// <summary>How known_hosts names an endpoint: the bare address on port 22, else <c>[address]:port</c>.</summary>
    public static string KnownHostsPattern(IPEndPoint endpoint) =>
        endpoint.Port == 22 ? endpoint.Address.ToString() : $"[{endpoint.Address}]:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Where a dotnet could be found in a host: directories to mask (the runtime the tests run on, the
    /// usual install roots, <c>~/.dotnet</c>, <c>/etc/dotnet</c>'s install_location) and files or symlinks
    /// named <c>dotnet</c> (on PATH, or symlinked directories) to remove inside the host.
    /// </summary>
    internal static (IReadOnlyList<string> Dirs, IReadOnlyList<string> Files) DotnetLocations()
    {
        var candidates = new List<string>
        {
            "/usr/share/dotnet", "/usr/lib/dotnet", "/usr/lib64/dotnet", "/usr/local/share/dotnet", "/usr/local/lib/dotnet",
            "/opt/dotnet", "/etc/dotnet", "/root/.dotnet",
        };
        // The runtime this process runs on: .../dotnet/shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll.
        if (new FileInfo(typeof(object).Assembly.Location).Directory?.Parent?.Parent?.Parent is { } runtime) candidates.Add(runtime.FullName);
        foreach (var variable in new[] { "DOTNET_ROOT", "DOTNET_ROOT_X64", "DOTNET_INSTALL_DIR" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value) candidates.Add(value);
        foreach (var dir in "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".Split(':'))
            candidates.Add(dir + "/dotnet");
        var dirs = new SortedSet<string>(StringComparer.Ordinal);
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in candidates.Select(p => p.TrimEnd('/')).Where(p => p.StartsWith('/') && p.Length > 1))
        {
            var info = new FileInfo(path);
            // A symlink is removed, never masked: a mount on it would follow the link, resolved against the machine's root during setup.
            if (info.LinkTarget is not null) files.Add(path);
            else if (Directory.Exists(path)) dirs.Add(path);
            else if (info.Exists) files.Add(path);
        }
        return ([.. dirs], [.. files]);
    }
}
