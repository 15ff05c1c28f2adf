using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Shell-style globs for node names: <c>*</c>, <c>?</c> and <c>[abc]</c>/<c>[a-z]</c>/<c>[!a]</c>.
/// Matching ignores case, as host names do. (FileSystemName has no character classes, hence our own.)
/// </summary>
public static class Glob
{
    private static readonly ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="name"/> matches the whole <paramref name="pattern"/>.</summary>
    public static bool IsMatch(string pattern, string name)
        => Cache.GetOrAdd(pattern, p => new Regex(ToRegex(p), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)).IsMatch(name);

    /// <summary>True when <paramref name="pattern"/> is a well-formed glob (a character class like [z-a] is not).</summary>
    public static bool IsValid(string pattern)
    {
        try
        {
            Cache.GetOrAdd(pattern, p => new Regex(ToRegex(p), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[':
                {
                    var close = pattern.IndexOf(']', i + 2);
                    if (close < 0) { sb.Append(@"\["); break; }
                    var body = pattern[(i + 1)..close];
                    var negate = body.StartsWith('!') || body.StartsWith('^');
                    if (negate) body = body[1..];
                    sb.Append('[').Append(negate ? "^" : "")
                      .Append(body.Replace(@"\", @"\\").Replace("[", @"\[").Replace("^", @"\^")).Append(']');
                    i = close;
                    break;
                }
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return sb.Append('$').ToString();
    }
}
