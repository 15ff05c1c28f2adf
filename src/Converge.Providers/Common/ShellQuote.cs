using System.Text;

namespace Converge.Providers.Common;

/// <summary>POSIX shell quoting, for showing argv as one line and for putting paths into shell commands.</summary>
public static class ShellQuote
{
    /// <summary>The word unchanged when the shell would not alter it, otherwise in single quotes.</summary>
    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(IsSafe)) return word;
        return "'" + word.Replace("'", "'\\''") + "'";
    }

    /// <summary>The argv as a shell would need it typed: each word quoted as needed, joined by spaces.</summary>
    public static string Join(IEnumerable<string> argv)
    {
        var text = new StringBuilder();
        foreach (var word in argv)
        {
            if (text.Length > 0) text.Append(' ');
            text.Append(Quote(word));
        }
        return text.ToString();
    }

    private static bool IsSafe(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '=' or ':' or ',' or '+' or '@' or '%';
}
