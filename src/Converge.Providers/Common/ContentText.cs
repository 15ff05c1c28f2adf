using System.Security.Cryptography;
using System.Text;

namespace Converge.Providers.Common;

/// <summary>How plans show file contents: a <c>{sha256}</c> checksum and a unified diff for text.</summary>
public static class ContentText
{
    /// <summary>What a unified diff is replaced by when either side is not text.</summary>
    public const string BinaryFilesDiffer = "Binary files differ";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Lower-case hex sha256: the bucket's key for this content.</summary>
    public static string Sha256(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The checksum display form, <c>{sha256}</c> followed by the hex digest, as Puppet shows it.</summary>
    public static string Checksum(ReadOnlySpan<byte> content) => "{sha256}" + Sha256(content);

    /// <summary>
    /// A unified diff (---/+++ headers, @@ hunks, 3 lines of context) from <paramref name="old"/> (null:
    /// the file does not exist, shown as /dev/null) to <paramref name="new"/>, or
    /// <see cref="BinaryFilesDiffer"/> when either side is not UTF-8 text or contains NUL.
    /// </summary>
    public static string UnifiedDiff(string path, byte[]? old, byte[] @new)
    {
        if (!TryText(old ?? [], out var oldText) || !TryText(@new, out var newText)) return BinaryFilesDiffer;
        return Common.UnifiedDiff.Render(oldText, newText, old is null ? "/dev/null" : path, path);
    }

    private static bool TryText(byte[] bytes, out string text)
    {
        text = "";
        if (Array.IndexOf(bytes, (byte)0) >= 0) return false;
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
