namespace Converge.Compiler.Catalog;

/// <summary>
/// The identity of a resource: its type and title, written <c>type[title]</c> everywhere
/// (references in manifests, plans, reports). This is the one place that format lives.
/// Ordering is ordinal on the text form, which is how every tie in the engine is broken.
/// </summary>
public readonly record struct ResourceId(string Type, string Title) : IComparable<ResourceId>
{
    public override string ToString() => $"{Type}[{Title}]";

    /// <summary>
    /// Ordinal order of the text forms <c>type[title]</c>, computed without building them: sorting
    /// and ordering 10,000 resources would otherwise allocate two strings per comparison.
    /// </summary>
    public int CompareTo(ResourceId other)
    {
        if (string.Equals(Type, other.Type, StringComparison.Ordinal))
        {
            // The common case (same type): compare titles with a vectorized prefix scan; where one
            // title ends, its text form continues with ']'.
            var x = Title.AsSpan();
            var y = other.Title.AsSpan();
            var common = x.CommonPrefixLength(y);
            var cx = common < x.Length ? x[common] : ']';
            var cy = common < y.Length ? y[common] : ']';
            return cx != cy ? cx.CompareTo(cy) : x.Length.CompareTo(y.Length);
        }
        var a = new Text(this);
        var b = new Text(other);
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var c = a[i].CompareTo(b[i]);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }

    // The characters of "type[title]" by index, over the two strings.
    private readonly ref struct Text(ResourceId id)
    {
        private readonly string _type = id.Type;
        private readonly string _title = id.Title;

        public int Length => _type.Length + _title.Length + 2;

        public char this[int i]
            => i < _type.Length ? _type[i]
             : i == _type.Length ? '['
             : i <= _type.Length + _title.Length ? _title[i - _type.Length - 1]
             : ']';
    }

    /// <summary>Parses <c>type[title]</c>; the title may itself contain brackets.</summary>
    public static bool TryParse(string text, out ResourceId id)
    {
        id = default;
        var open = text.IndexOf('[');
        if (open <= 0 || !text.EndsWith(']')) return false;
        var type = text[..open];
        foreach (var c in type)
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')) return false;
        var title = text[(open + 1)..^1];
        if (title.Length == 0) return false;
        id = new ResourceId(type, title);
        return true;
    }
}
