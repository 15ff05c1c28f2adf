using System.Globalization;
using System.Text;
using DiffPlex;
using DiffPlex.Chunkers;
using DiffPlex.Model;

namespace Converge.Providers.Common;

/// <summary>
/// A unified diff in the form <c>diff -u</c> and git print: <c>---</c>/<c>+++</c> headers, <c>@@</c> hunks
/// with 3 lines of context, and <c>\ No newline at end of file</c> where a side lacks one. DiffPlex
/// finds the changed lines; rendering is ours because DiffPlex's renderer treats the final newline as
/// an extra empty line (<c>@@ -1,0 +1,2 @@</c> for a new one-line file).
/// </summary>
public static class UnifiedDiff
{
    /// <summary>Lines of unchanged context around each change.</summary>
    public const int ContextLines = 3;

    private static readonly Differ Differ = new();

    /// <summary>The diff from <paramref name="oldText"/> to <paramref name="newText"/>; empty when they are equal.</summary>
    public static string Render(string oldText, string newText, string oldName, string newName)
    {
        var result = Differ.CreateDiffs(oldText, newText, ignoreWhiteSpace: false, ignoreCase: false, LineChunker.Instance);
        var blocks = result.DiffBlocks;
        if (blocks.Count == 0) return "";
        var a = result.PiecesOld;
        var b = result.PiecesNew;

        var text = new StringBuilder();
        text.Append("--- ").Append(oldName).Append('\n');
        text.Append("+++ ").Append(newName).Append('\n');
        for (var first = 0; first < blocks.Count;)
        {
            // Blocks closer than twice the context share a hunk, as diff -u does.
            var last = first;
            while (last + 1 < blocks.Count && blocks[last + 1].DeleteStartA - EndA(blocks[last]) <= 2 * ContextLines) last++;

            var aStart = Math.Max(0, blocks[first].DeleteStartA - ContextLines);
            var aEnd = Math.Min(a.Count, EndA(blocks[last]) + ContextLines);
            var bStart = blocks[first].InsertStartB - (blocks[first].DeleteStartA - aStart);
            var bEnd = blocks[last].InsertStartB + blocks[last].InsertCountB + (aEnd - EndA(blocks[last]));
            text.Append("@@ -").Append(Range(aStart, aEnd - aStart)).Append(" +").Append(Range(bStart, bEnd - bStart)).Append(" @@\n");

            var position = aStart;
            for (var k = first; k <= last; k++)
            {
                var block = blocks[k];
                for (; position < block.DeleteStartA; position++) Line(text, ' ', a[position]);
                for (var i = 0; i < block.DeleteCountA; i++) Line(text, '-', a[block.DeleteStartA + i]);
                for (var i = 0; i < block.InsertCountB; i++) Line(text, '+', b[block.InsertStartB + i]);
                position = EndA(block);
            }
            for (; position < aEnd; position++) Line(text, ' ', a[position]);
            first = last + 1;
        }
        return text.ToString();
    }

    private static int EndA(DiffBlock block) => block.DeleteStartA + block.DeleteCountA;

    // "start,count" with 1-based start; an empty range names the line before it; a count of 1 is omitted.
    private static string Range(int start, int count) => count switch
    {
        0 => $"{start.ToString(CultureInfo.InvariantCulture)},0",
        1 => (start + 1).ToString(CultureInfo.InvariantCulture),
        _ => $"{(start + 1).ToString(CultureInfo.InvariantCulture)},{count.ToString(CultureInfo.InvariantCulture)}",
    };

    private static void Line(StringBuilder text, char prefix, string piece)
    {
        text.Append(prefix);
        if (piece.EndsWith('\n'))
        {
            text.Append(piece);
        }
        else
        {
            text.Append(piece).Append('\n').Append("\\ No newline at end of file\n");
        }
    }

    /// <summary>Splits into lines that keep their '\n', so a last line without one differs from the same line with one.</summary>
    private sealed class LineChunker : IChunker
    {
        public static readonly LineChunker Instance = new();

        public IReadOnlyList<string> Chunk(string text)
        {
            var lines = new List<string>();
            var start = 0;
            while (start < text.Length)
            {
                var end = text.IndexOf('\n', start);
                if (end < 0) end = text.Length - 1;
                lines.Add(text.Substring(start, end - start + 1));
                start = end + 1;
            }
            return lines;
        }
    }
}
