using System.Net.Sockets;
using System.Text;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Converge.Remote;

/// <summary>How to reach hosts: keys, host-key policy, timeouts.</summary>
public sealed record SshOptions
{
    /// <summary>known_hosts to check host keys against (and to append to with <see cref="AcceptNew"/>).</summary>
    public required KnownHosts KnownHosts { get; init; }

    /// <summary>Record the key of a host known_hosts does not list yet, instead of refusing it. A changed key is refused regardless.</summary>
    public bool AcceptNew { get; init; }

    /// <summary>The key files, read and decrypted once for the whole run (<see cref="KeyRing.Load"/>).</summary>
    public KeyRing Keys { get; init; } = KeyRing.Empty;

    /// <summary>Key files tried for hosts without their own <c>identity</c>.</summary>
    public IReadOnlyList<string> DefaultIdentityFiles { get; init; } = [];

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval of SSH keep-alive messages, so an idle run (a long exec) is not dropped by a middlebox.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>What a remote command left behind.</summary>
public sealed record ExecResult(int? ExitCode, string? Signal, string Stdout, string StderrTail);

/// <summary>
/// One SSH connection to one host, reused for every command of the run (a new connection costs
/// ~0.3 s of CPU on both ends). Files travel on the standard input of exec channels, not SFTP: SSH.NET
/// gives SFTP its own connection, and a file written through <c>sudo</c> needs a command anyway.
/// </summary>
public sealed class SshSession : IDisposable
{
    private readonly SshClient _client;

    private SshSession(SshClient client) => _client = client;

    /// <summary>
    /// Connects and authenticates, checking the host key against known_hosts first. Throws
    /// <see cref="RemoteException"/> with the matching status (unreachable, auth failed, host key
    /// mismatch or unknown) instead of the library's exceptions.
    /// </summary>
    public static async Task<SshSession> ConnectAsync(InventoryHost host, SshOptions options, CancellationToken ct)
    {
        var keys = LoadKeys(host, options);
        var info = new ConnectionInfo(host.Address, host.Port, host.User, new PrivateKeyAuthenticationMethod(host.User, keys))
        {
            Timeout = options.ConnectTimeout,
        };
        // Ask for the key types known_hosts records for this host (as OpenSSH does), so a host that also
        // has, say, an ECDSA key is not reported as changed because it offered that one first.
        var knownTypes = options.KnownHosts.KeyTypesFor(host.Address, host.Port);
        if (knownTypes.Count > 0)
        {
            var wanted = knownTypes.SelectMany(AlgorithmsFor).ToHashSet(StringComparer.Ordinal);
            var drop = info.HostKeyAlgorithms.Keys.Where(k => !wanted.Contains(k)).ToList();
            if (drop.Count < info.HostKeyAlgorithms.Count)
                foreach (var k in drop) info.HostKeyAlgorithms.Remove(k);
        }

        var client = new SshClient(info) { KeepAliveInterval = options.KeepAlive };
        HostKeyCheck? refused = null;
        client.HostKeyReceived += (_, e) =>
        {
            var check = options.KnownHosts.Check(host.Address, host.Port, e.HostKey);
            if (check.Verdict == HostKeyVerdict.Unknown && options.AcceptNew)
            {
                options.KnownHosts.Append(host.Address, host.Port, e.HostKey);
                e.CanTrust = true;
                return;
            }
            e.CanTrust = check.Verdict == HostKeyVerdict.Trusted;
            if (!e.CanTrust) refused = check;
        };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.ConnectTimeout + TimeSpan.FromSeconds(1));
            await client.ConnectAsync(timeout.Token);
            return new SshSession(client);
        }
        catch (Exception) when (refused is not null)
        {
            // SSH.NET reports a refused key as a generic connection error: say which key and why instead.
            client.Dispose();
            throw new RemoteException(refused.Verdict == HostKeyVerdict.Changed ? HostStatus.HostKeyMismatch : HostStatus.HostKeyUnknown,
                refused.Describe(KnownHosts.HostName(host.Address, host.Port), options.KnownHosts.Path));
        }
        catch (SshAuthenticationException e)
        {
            client.Dispose();
            throw new RemoteException(HostStatus.AuthFailed, $"{host.Endpoint}: authentication failed ({e.Message}); keys tried: {string.Join(", ", options.Keys.Describe(host, options.DefaultIdentityFiles))}");
        }
        catch (Exception e) when (e is SocketException or SshOperationTimeoutException or SshConnectionException or OperationCanceledException or TimeoutException or ProxyException or IOException)
        {
            client.Dispose();
            if (e is OperationCanceledException && ct.IsCancellationRequested) throw;
            var why = e is OperationCanceledException or SshOperationTimeoutException or TimeoutException
                ? $"no answer within {options.ConnectTimeout.TotalSeconds:0.#} s"
                : e.Message;
            throw new RemoteException(HostStatus.Unreachable, $"{host.Endpoint}: cannot connect: {why}");
        }
    }

    /// <summary>
    /// Runs <paramref name="command"/> (a shell command line) on the host. <paramref name="stdin"/>, when
    /// given, writes the command's standard input; then <paramref name="hold"/>, when given, gets the
    /// input and the command's completion and may keep the input open (to write more later) until it
    /// returns; the input is closed afterwards (without either, at once). Each stdout line goes to
    /// <paramref name="onLine"/> as it arrives; stderr keeps its last 64 KiB. The remote command is never
    /// cancelled from here: what stops it early is for the command and its input to decide.
    /// </summary>
    public async Task<ExecResult> RunAsync(string command, Func<Stream, Task>? stdin, Action<string>? onLine, Func<Stream, Task, Task>? hold = null)
    {
        using var cmd = _client.CreateCommand(command);
        var execution = cmd.ExecuteAsync(CancellationToken.None);
        var stdout = new StringBuilder();
        // SSH.NET's pipe streams have no truly asynchronous read (Stream's default wraps the blocking one):
        // read each on its own thread rather than hold pool threads for the length of a run.
        var reading = Task.Factory.StartNew(() =>
        {
            using var reader = new StreamReader(cmd.OutputStream, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                lock (stdout) stdout.Append(line).Append('\n');
                onLine?.Invoke(line);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var stderr = new TailBuffer(64 * 1024);
        var readingErr = Task.Factory.StartNew(() =>
        {
            var buffer = new byte[16384];
            int n;
            while ((n = cmd.ExtendedOutputStream.Read(buffer, 0, buffer.Length)) > 0) stderr.Append(buffer.AsSpan(0, n));
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Exception? writeError = null;
        var input = await OpenInputAsync(cmd, execution);
        try
        {
            // The remote side may exit early (sudo refusing, no space left): its exit code and stderr say
            // why, so a broken pipe here is not the error to report.
            if (stdin is not null) await stdin(input);
            if (hold is not null) await hold(input, execution);
        }
        catch (Exception e) when (IsChannelGone(e)) { writeError = e; }
        finally
        {
            // Closing the input of a command that has ended (its channel closed) has no one to tell.
            try { await input.DisposeAsync(); }
            catch (Exception e) when (IsChannelGone(e)) { }
        }
        await execution;
        await Task.WhenAll(reading, readingErr);
        string text;
        lock (stdout) text = stdout.ToString();
        var err = stderr.ToString();
        if (writeError is not null && cmd.ExitStatus == 0)
            err += $"\n(sending input failed: {writeError.Message})";
        return new ExecResult(cmd.ExitStatus, cmd.ExitSignal, text, err);
    }

    private static bool IsChannelGone(Exception e) => e is IOException or SshException or ObjectDisposedException or InvalidOperationException;

    /// <summary>
    /// The command's standard input. SSH.NET refuses it until the channel is open, which ExecuteAsync may
    /// not have done yet when it returns: wait for that instead of failing the host.
    /// </summary>
    private static async Task<Stream> OpenInputAsync(SshCommand cmd, Task execution)
    {
        for (var delay = 1; ; delay = Math.Min(delay * 2, 50))
        {
            try { return cmd.CreateInputStream(); }
            catch (InvalidOperationException)
            {
                // Already over (sudo refused, say): there is no one to send input to; its exit code says why.
                if (execution.IsCompleted) return Stream.Null;
                await Task.Delay(delay);
            }
        }
    }

    public void Dispose()
    {
        try { _client.Disconnect(); }
        catch (Exception e) when (e is SshException or SocketException or ObjectDisposedException or InvalidOperationException) { }
        _client.Dispose();
    }

    private static IPrivateKeySource[] LoadKeys(InventoryHost host, SshOptions options) =>
        options.Keys.For(host, options.DefaultIdentityFiles);

    // known_hosts records key types; SSH negotiates signature algorithms. RSA keys sign three ways.
    private static IEnumerable<string> AlgorithmsFor(string keyType) => keyType switch
    {
        "ssh-rsa" => ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
        _ => [keyType],
    };

    /// <summary>Keeps the last <c>capacity</c> bytes written: the tail of a long stderr.</summary>
    private sealed class TailBuffer(int capacity)
    {
        private readonly List<byte> _bytes = [];

        public void Append(ReadOnlySpan<byte> data)
        {
            lock (_bytes)
            {
                _bytes.AddRange(data);
                if (_bytes.Count > capacity) _bytes.RemoveRange(0, _bytes.Count - capacity);
            }
        }

        public override string ToString()
        {
            lock (_bytes) return Encoding.UTF8.GetString(_bytes.ToArray());
        }
    }
}
