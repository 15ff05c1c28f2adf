namespace Converge.Compiler.Catalog;

/// <summary>
/// The identity of a resource: its type and title, written <c>type[title]</c> everywhere
/// (references in manifests, plans, reports). This is the one place that format lives.
/// Ordering is ordinal on the text form, which is how every tie in the engine is broken.
/// </summary>
public readonly record struct ResourceId(string Type, string Title) : IComparable<ResourceId>
{
    public override string ToString() => $"{Type}[{Title}]";

    public int CompareTo(ResourceId other) => string.CompareOrdinal(ToString(), other.ToString());

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
