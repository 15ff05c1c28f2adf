using Renci.SshNet;
using Renci.SshNet.Common;

namespace Converge.Remote;

/// <summary>
/// The private keys of a fleet run, each file read (and decrypted) once before any host is contacted,
/// so an encrypted key's passphrase is asked once per file, not once per host, and never in the middle
/// of the live progress. A key that cannot be used is not an error of the run: every host that needs it
/// fails with <see cref="HostStatus.AuthFailed"/> and the reason.
/// </summary>
public sealed class KeyRing
{
    /// <summary>Wrong passphrases tolerated at the prompt before the key is given up (as OpenSSH's ssh does).</summary>
    public const int PromptAttempts = 3;

    private readonly Dictionary<string, IPrivateKeySource> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _errors = new(StringComparer.Ordinal);

    private KeyRing() { }

    /// <summary>An empty ring: every key file is read on use, without a passphrase (for tests of other parts).</summary>
    public static KeyRing Empty { get; } = new();

    /// <summary>
    /// Reads <paramref name="files"/>. An encrypted key is decrypted with <paramref name="passphrase"/>
    /// (the environment variable's value) when given; otherwise <paramref name="prompt"/>, when given (a
    /// terminal), is asked for it with the file name and the attempt (1..<see cref="PromptAttempts"/>),
    /// and returns null when the operator interrupted the prompt: then this returns null too.
    /// </summary>
    public static KeyRing? Load(IEnumerable<string> files, string? passphrase, string passphraseVariable, Func<string, int, string?>? prompt)
    {
        var ring = new KeyRing();
        foreach (var file in files.Distinct(StringComparer.Ordinal))
        {
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

    /// <summary>The key read from <paramref name="file"/>; throws <see cref="RemoteException"/> (auth failed) with why it could not be used.</summary>
    public IPrivateKeySource Get(string file, string endpoint)
    {
        if (_keys.TryGetValue(file, out var key)) return key;
        if (_errors.TryGetValue(file, out var error)) throw new RemoteException(HostStatus.AuthFailed, $"{endpoint}: {error}");
        try { return new PrivateKeyFile(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SshException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw new RemoteException(HostStatus.AuthFailed, $"{endpoint}: cannot use key {file}: {e.Message}");
        }
    }
}
