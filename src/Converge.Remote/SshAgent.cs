using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Renci.SshNet;
using Renci.SshNet.Security;

namespace Converge.Remote;

/// <summary>
/// A small ssh-agent client (the protocol of OpenSSH's PROTOCOL.agent, draft-miller-ssh-agent): lists the
/// agent's keys and has it sign, over the unix socket in <c>SSH_AUTH_SOCK</c>. SSH.NET has no agent
/// support; each agent key becomes an <see cref="IPrivateKeySource"/> whose signatures the agent makes,
/// so the private key never leaves the agent and an encrypted key already added needs no passphrase.
/// </summary>
public sealed class SshAgent(string socketPath)
{
    private const byte Failure = 5;
    private const byte RequestIdentities = 11;
    private const byte IdentitiesAnswer = 12;
    private const byte SignRequest = 13;
    private const byte SignResponse = 14;
    private const uint RsaSha2_256 = 2;
    private const uint RsaSha2_512 = 4;

    /// <summary>The agent's socket.</summary>
    public string SocketPath { get; } = socketPath;

    /// <summary>One key the agent holds: its public key blob (as in authorized_keys, decoded) and comment.</summary>
    public sealed record Identity(byte[] Blob, string Comment)
    {
        /// <summary>The key type the blob starts with: <c>ssh-ed25519</c>, <c>ssh-rsa</c>, <c>ecdsa-sha2-nistp256</c>…</summary>
        public string KeyType => Encoding.ASCII.GetString(ReadString(Blob, 0, out _));

        /// <summary>The key's fingerprint as OpenSSH prints it (<c>SHA256:</c>, unpadded base64).</summary>
        public string Fingerprint => "SHA256:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Blob)).TrimEnd('=');
    }

    /// <summary>The agent named by <c>SSH_AUTH_SOCK</c>, or null when the variable is unset or empty.</summary>
    public static SshAgent? FromEnvironment() =>
        Environment.GetEnvironmentVariable("SSH_AUTH_SOCK") is { Length: > 0 } path ? new SshAgent(path) : null;

    /// <summary>The keys the agent holds. Throws <see cref="IOException"/> when the agent cannot be reached or answers nonsense.</summary>
    public IReadOnlyList<Identity> ListIdentities()
    {
        var answer = Exchange([RequestIdentities]);
        if (answer.Length < 5 || answer[0] != IdentitiesAnswer) throw new IOException($"ssh-agent at {SocketPath} refused to list its keys");
        var count = BinaryPrimitives.ReadUInt32BigEndian(answer.AsSpan(1));
        var at = 5;
        var keys = new List<Identity>();
        for (var i = 0; i < count; i++)
        {
            var blob = ReadString(answer, at, out at);
            var comment = ReadString(answer, at, out at);
            keys.Add(new Identity(blob, Encoding.UTF8.GetString(comment)));
        }
        return keys;
    }

    /// <summary>
    /// The agent's signature of <paramref name="data"/> with <paramref name="key"/>, as SSH sends it
    /// (<c>string algorithm, string signature</c>). <paramref name="flags"/> pick RSA's hash (SHA-256 or
    /// SHA-512; 0 for every other key type and for SHA-1 <c>ssh-rsa</c>).
    /// </summary>
    public byte[] Sign(Identity key, byte[] data, uint flags)
    {
        var request = new MemoryStream();
        request.WriteByte(SignRequest);
        WriteString(request, key.Blob);
        WriteString(request, data);
        Span<byte> f = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(f, flags);
        request.Write(f);
        var answer = Exchange(request.ToArray());
        if (answer.Length == 0 || answer[0] == Failure)
            throw new IOException($"ssh-agent at {SocketPath} refused to sign with {key.KeyType} {key.Fingerprint} (a key added with 'ssh-add -c' needs confirming; one added with a lifetime may have expired)");
        if (answer[0] != SignResponse) throw new IOException($"ssh-agent at {SocketPath}: unexpected answer {answer[0]} to a signature request");
        return ReadString(answer, 1, out _);
    }

    /// <summary>The key sources SSH.NET authenticates with: one per agent key, signing through the agent.</summary>
    public IPrivateKeySource KeySource(Identity key) => new AgentKey(this, key);

    private byte[] Exchange(byte[] message)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.ReceiveTimeout = socket.SendTimeout = 30_000; // an agent asking for confirmation may take a moment
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
            var frame = new byte[4 + message.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)message.Length);
            message.CopyTo(frame, 4);
            socket.Send(frame);
            var header = ReceiveExactly(socket, 4);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            if (length > 256 * 1024) throw new IOException($"ssh-agent at {SocketPath}: answer of {length} bytes is not one");
            return ReceiveExactly(socket, (int)length);
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot reach ssh-agent at {SocketPath} (SSH_AUTH_SOCK): {e.Message}", e);
        }
    }

    private static byte[] ReceiveExactly(Socket socket, int count)
    {
        var buffer = new byte[count];
        for (var got = 0; got < count;)
        {
            var n = socket.Receive(buffer, got, count - got, SocketFlags.None);
            if (n == 0) throw new IOException("ssh-agent closed the connection mid-answer");
            got += n;
        }
        return buffer;
    }

    private static byte[] ReadString(byte[] data, int at, out int next)
    {
        if (at + 4 > data.Length) throw new IOException("ssh-agent answer is truncated");
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
        if (length < 0 || at + 4 + length > data.Length) throw new IOException("ssh-agent answer is truncated");
        next = at + 4 + length;
        return data.AsSpan(at + 4, length).ToArray();
    }

    private static void WriteString(Stream s, byte[] value)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)value.Length);
        s.Write(length);
        s.Write(value);
    }

    /// <summary>An agent key as SSH.NET sees a private key: RSA offers its SHA-2 signatures first, as OpenSSH does.</summary>
    private sealed class AgentKey(SshAgent agent, Identity key) : IPrivateKeySource
    {
        public IReadOnlyCollection<HostAlgorithm> HostKeyAlgorithms { get; } = key.KeyType == "ssh-rsa"
            ?
            [
                new AgentAlgorithm("rsa-sha2-512", agent, key, RsaSha2_512),
                new AgentAlgorithm("rsa-sha2-256", agent, key, RsaSha2_256),
                new AgentAlgorithm("ssh-rsa", agent, key, 0),
            ]
            : [new AgentAlgorithm(key.KeyType, agent, key, 0)];
    }

    private sealed class AgentAlgorithm(string name, SshAgent agent, Identity key, uint flags) : HostAlgorithm(name)
    {
        public override byte[] Data => key.Blob;

        public override byte[] Sign(byte[] data) => agent.Sign(key, data, flags);

        // Only host keys are verified, and those never come from an agent.
        public override bool VerifySignature(byte[] data, byte[] signature) => throw new NotSupportedException("agent keys only sign");
    }
}
