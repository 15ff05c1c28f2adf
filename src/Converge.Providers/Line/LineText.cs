using System.Text;

namespace Converge.Providers.Line;

/// <summary>
/// A text file as lines, keeping what a line edit must give back unchanged: each line's own ending
/// (<c>\n</c> or <c>\r\n</c>), a UTF-8 byte order mark, and whether the last line ends with a newline.
/// New lines take the file's convention: the first ending found, <c>\n</c> for a file without one.
/// </summary>
public sealed class LineText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<string> _lines = [];
    private readonly List<string> _endings = [];
    private readonly bool _byteOrderMark;
    private readonly bool _endsWithNewline;

    private LineText(bool byteOrderMark, string newline, bool endsWithNewline)
    {
        _byteOrderMark = byteOrderMark;
        Newline = newline;
        _endsWithNewline = endsWithNewline;
    }

    /// <summary>The line ending new lines get.</summary>
    public string Newline { get; }

    /// <summary>The lines' text, without endings.</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>An empty file as a new file gets it: no lines, <c>\n</c> endings, a final newline.</summary>
    public static LineText Empty() => new(byteOrderMark: false, "\n", endsWithNewline: true);

    /// <summary>Splits UTF-8 bytes into lines; null when they are not text (invalid UTF-8 or a NUL byte).</summary>
    public static LineText? TryParse(byte[] content)
    {
        if (Array.IndexOf(content, (byte)0) >= 0) return null;
        string text;
        try
        {
            text = StrictUtf8.GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var bom = text.StartsWith('\uFEFF');
        if (bom) text = text[1..];
        var firstNewline = text.IndexOf('\n');
        var newline = firstNewline > 0 && text[firstNewline - 1] == '\r' ? "\r\n" : "\n";
        // An empty file counts as ending with a newline, so the line added to it gets one.
        var result = new LineText(bom, newline, text.Length == 0 || text.EndsWith('\n'));
        for (var start = 0; start < text.Length;)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                result.Add(text[start..], "");
                break;
            }
            var crlf = end > start && text[end - 1] == '\r';
            result.Add(text[start..(crlf ? end - 1 : end)], crlf ? "\r\n" : "\n");
            start = end + 1;
        }
        return result;
    }

    /// <summary>Replaces the text of line <paramref name="index"/> (0-based), keeping its ending.</summary>
    public void Replace(int index, string line) => _lines[index] = line;

    /// <summary>Inserts a line before <paramref name="index"/> (<see cref="Lines"/>.Count appends).</summary>
    public void Insert(int index, string line)
    {
        _lines.Insert(index, line);
        _endings.Insert(index, Newline);
    }

    /// <summary>Removes line <paramref name="index"/> (0-based).</summary>
    public void RemoveAt(int index)
    {
        _lines.RemoveAt(index);
        _endings.RemoveAt(index);
    }

    /// <summary>
    /// The bytes: every line but the last keeps (or, when it was the old last line, gets) a line ending;
    /// the last line ends with a newline exactly when the original file did.
    /// </summary>
    public byte[] ToBytes()
    {
        var text = new StringBuilder();
        if (_byteOrderMark) text.Append('\uFEFF');
        for (var i = 0; i < _lines.Count; i++)
        {
            text.Append(_lines[i]);
            var last = i == _lines.Count - 1;
            var ending = _endings[i].Length > 0 ? _endings[i] : Newline;
            if (!last || _endsWithNewline) text.Append(ending);
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private void Add(string line, string ending)
    {
        _lines.Add(line);
        _endings.Add(ending);
    }
}
