using Renci.SshNet;
using Renci.SshNet.Common;

namespace Converge.Remote;

/// <summary>
/// The private keys of a fleet run, each file read (and decrypted) once before any host is contacted,
/// so an encrypted key's passphrase is asked once per file, not once per host, and never in the middle
/// of the live progress. A key that cannot be used is not an error of the run: every host that needs it
/// fails with <see cref="HostStatus.AuthFailed"/> and the reason. With an ssh-agent
/// (<see cref="SshAgent"/>), a key file whose public key the agent holds is not read at all (the agent
/// signs: no passphrase), and hosts without an identity of their own offer the agent's keys first.
/// </summary>
public sealed class KeyRing
{
    /// <summary>Wrong passphrases tolerated at the prompt before the key is given up (as OpenSSH's ssh does).</summary>
    public const int PromptAttempts = 3;

    private readonly Dictionary<string, IPrivateKeySource> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SshAgent.Identity> _inAgent = new(StringComparer.Ordinal);
    private readonly List<(SshAgent.Identity Identity, IPrivateKeySource Source)> _agentKeys = [];

    private KeyRing() { }

    /// <summary>The agent's keys, in the agent's order (empty without an agent).</summary>
    public IReadOnlyList<SshAgent.Identity> AgentKeys => _agentKeys.Select(k => k.Identity).ToList();

    /// <summary>An empty ring: every key file is read on use, without a passphrase (for tests of other parts).</summary>
    public static KeyRing Empty { get; } = new();

    /// <summary>
    /// Reads <paramref name="files"/>. An encrypted key is decrypted with <paramref name="passphrase"/>
    /// (the environment variable's value) when given; otherwise <paramref name="prompt"/>, when given (a
    /// terminal), is asked for it with the file name and the attempt (1..<see cref="PromptAttempts"/>),
    /// and returns null when the operator interrupted the prompt: then this returns null too.
    /// </summary>
    public static KeyRing? Load(IEnumerable<string> files, string? passphrase, string passphraseVariable, Func<string, int, string?>? prompt,
        SshAgent? agent = null, IReadOnlyList<SshAgent.Identity>? agentKeys = null)
    {
        var ring = new KeyRing();
        if (agent is not null)
            foreach (var identity in agentKeys ?? agent.ListIdentities())
                ring._agentKeys.Add((identity, agent.KeySource(identity)));
        foreach (var file in files.Distinct(StringComparer.Ordinal))
        {
            if (ring._agentKeys.Count > 0 && PublicKeyBlob(file) is { } blob
                && ring._agentKeys.FirstOrDefault(k => k.Identity.Blob.AsSpan().SequenceEqual(blob)) is { Source: not null } held)
            {
                ring._inAgent[file] = held.Identity;
                continue;
            }
            try
            {
                if (!string.IsNullOrEmpty(passphrase))
                {
                    ring._keys[file] = new PrivateKeyFile(file, passphrase);
                    continue;
                }
                try
                {
                    ring._keys[file] = new PrivateKeyFile(file);
                    continue;
                }
                catch (SshPassPhraseNullOrEmptyException) when (prompt is not null)
                {
                }
                for (var attempt = 1; ; attempt++)
                {
                    var answer = prompt(file, attempt);
                    if (answer is null) return null;
                    try
                    {
                        ring._keys[file] = new PrivateKeyFile(file, answer);
                        break;
                    }
                    catch (Exception e) when (e is SshException && attempt < PromptAttempts)
                    {
                        // A wrong passphrase: SSH.NET cannot tell it from a damaged key, so ask again, as ssh does.
                    }
                }
            }
            catch (SshPassPhraseNullOrEmptyException)
            {
                ring._errors[file] = $"key {file} is encrypted and no passphrase was given: put it in the environment variable {passphraseVariable} " +
                                     "(--passphrase-env names another), or run converge ssh from a terminal to be asked for it";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SshException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
            {
                ring._errors[file] = prompt is not null && string.IsNullOrEmpty(passphrase) && e is SshException
                    ? $"cannot use key {file}: {e.Message} (after {PromptAttempts} passphrases)"
                    : $"cannot use key {file}: {e.Message}";
            }
        }
        return ring;
    }

    /// <summary>
    /// The keys a host offers, in order: its own identity file (through the agent when the agent holds
    /// it); without one, the agent's keys, then the default files the agent does not hold. Throws
    /// <see cref="RemoteException"/> (auth failed) when there is nothing usable to offer.
    /// </summary>
    public IPrivateKeySource[] For(InventoryHost host, IReadOnlyList<string> defaultFiles)
    {
        if (host.IdentityFile is { } own) return [Get(own, host.Endpoint)];
        var keys = _agentKeys.Select(k => k.Source).ToList();
        foreach (var file in defaultFiles.Where(f => !_inAgent.ContainsKey(f)))
        {
            // With agent keys to offer, a default file that cannot be used is skipped, as ssh does.
            try { keys.Add(Get(file, host.Endpoint)); }
            catch (RemoteException) when (_agentKeys.Count > 0) { }
        }
        if (keys.Count == 0)
            throw new RemoteException(HostStatus.AuthFailed, $"{host.Endpoint}: no key to offer: give 'identity' in the inventory or --identity (default ~/.ssh/id_ed25519, id_ecdsa, id_rsa), or add a key to ssh-agent");
        return [.. keys];
    }

    /// <summary>What <see cref="For"/> offers a host, for the message of a refused authentication.</summary>
    public IEnumerable<string> Describe(InventoryHost host, IReadOnlyList<string> defaultFiles)
    {
        string Name(string file) => _inAgent.TryGetValue(file, out var id) ? $"{file} (in ssh-agent)" : file;
        if (host.IdentityFile is { } own) return [Name(own)];
        return _agentKeys.Select(k => $"ssh-agent {k.Identity.KeyType} {k.Identity.Fingerprint}")
            .Concat(defaultFiles.Where(f => !_inAgent.ContainsKey(f)).Select(Name));
    }

    /// <summary>The key read from <paramref name="file"/>; throws <see cref="RemoteException"/> (auth failed) with why it could not be used.</summary>
    public IPrivateKeySource Get(string file, string endpoint)
    {
        if (_inAgent.TryGetValue(file, out var held)) return _agentKeys.First(k => k.Identity == held).Source;
        if (_keys.TryGetValue(file, out var key)) return key;
        if (_errors.TryGetValue(file, out var error)) throw new RemoteException(HostStatus.AuthFailed, $"{endpoint}: {error}");
        try { return new PrivateKeyFile(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SshException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw new RemoteException(HostStatus.AuthFailed, $"{endpoint}: cannot use key {file}: {e.Message}");
        }
    }

    /// <summary>
    /// A key file's public key blob, read without decrypting anything: from <c>FILE.pub</c> when it
    /// exists, else from the OpenSSH private key format's header, which keeps the public key in clear.
    /// Null when neither says (a PEM key without its .pub).
    /// </summary>
    public static byte[]? PublicKeyBlob(string file)
    {
        try
        {
            if (File.Exists(file + ".pub"))
            {
                var fields = File.ReadAllText(file + ".pub").Split(' ', '\t');
                return fields.Length >= 2 ? Convert.FromBase64String(fields[1].Trim()) : null;
            }
            var text = File.ReadAllText(file);
            const string begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----";
            var from = text.IndexOf(begin, StringComparison.Ordinal);
            var to = text.IndexOf(end, StringComparison.Ordinal);
            if (from < 0 || to < from) return null;
            var data = Convert.FromBase64String(string.Concat(text[(from + begin.Length)..to].Where(c => !char.IsWhiteSpace(c))));
            var magic = "openssh-key-v1\0"u8;
            if (!data.AsSpan().StartsWith(magic)) return null;
            var at = magic.Length;
            for (var i = 0; i < 3; i++) Skip(data, ref at); // cipher name, kdf name, kdf options
            at += 4;                                        // number of keys (one, in every file ssh-keygen writes)
            var length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            return data.AsSpan(at + 4, length).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static void Skip(byte[] data, ref int at) =>
        at += 4 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
}
