using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Converge.Providers.AuthorizedKey;

/// <summary>
/// OpenSSH public keys as they appear in <c>authorized_keys</c>: <c>[options] type base64 [comment]</c>.
/// Checks what sshd would check of the key itself (a known type, base64 that decodes, a blob whose
/// embedded type name is the declared one) and splits existing lines to match them by type and blob.
/// </summary>
public static partial class SshPublicKey
{
    /// <summary>The key types OpenSSH accepts in authorized_keys.</summary>
    public static readonly IReadOnlyList<string> KnownTypes =
    [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
    ];

    /// <summary>Null when <paramref name="blob"/> is a valid key of <paramref name="type"/>; else the reason.</summary>
    public static string? Check(string type, string blob)
    {
        if (!KnownTypes.Contains(type))
            return $"key type must be one of {string.Join(", ", KnownTypes)}; got {type}";
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(blob);
        }
        catch (FormatException)
        {
            return "key is not valid base64 (is it cut short or wrapped over lines?)";
        }
        if (bytes.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(bytes) is var n && n > bytes.Length - 4)
            return "key data is too short to be an SSH public key";
        var inner = Encoding.ASCII.GetString(bytes, 4, (int)BinaryPrimitives.ReadUInt32BigEndian(bytes));
        if (inner != type) return $"key data is a {inner} key but the type says {type}";
        if (bytes.Length < 4 + inner.Length + 8) return "key data is too short to be an SSH public key";
        return null;
    }

    /// <summary>True when <paramref name="option"/> is one sshd parses: a name, optionally ="quoted value".</summary>
    public static bool IsValidOption(string option) => OptionPattern().IsMatch(option);

    /// <summary>
    /// The type and blob of an authorized_keys line (options and comment skipped); null for blank lines,
    /// comments and anything that does not hold a known key type followed by a blob.
    /// </summary>
    public static (string Type, string Blob)? KeyOf(string line)
    {
        var text = line.Trim();
        if (text.Length == 0 || text.StartsWith('#')) return null;
        var words = Words(text);
        for (var i = 0; i + 1 < words.Count && i < 2; i++)
            if (KnownTypes.Contains(words[i])) return (words[i], words[i + 1]);
        return null;
    }

    // Splits on blanks outside double quotes (options like command="a b" hold spaces); at most 3 words.
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length && words.Count < 3; i++)
        {
            var c = text[i];
            if (c == '\\' && quoted && i + 1 < text.Length)
            {
                current.Append(c).Append(text[++i]);
                continue;
            }
            if (c == '"') quoted = !quoted;
            if (!quoted && c is ' ' or '\t')
            {
                if (current.Length > 0) words.Add(current.ToString());
                current.Clear();
            }
            else current.Append(c);
        }
        if (current.Length > 0 && words.Count < 3) words.Add(current.ToString());
        return words;
    }

    [GeneratedRegex("""^[A-Za-z0-9][A-Za-z0-9-]*(="([^"\\\r\n]|\\.)*")?$""", RegexOptions.CultureInvariant)]
    private static partial Regex OptionPattern();
}
