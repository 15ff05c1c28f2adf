namespace Converge.Providers.Tests.Kit;

/// <summary>
/// Builds catalog resources as if loaded from <c>site.yaml</c> with this layout, so diagnostics have
/// predictable positions:
/// <code>
/// 1 | - file: /etc/motd          (type key at 1:3, title at 1:3+len(type)+2)
/// 2 |   key0: value0             (keys at column 3, values at column 3+len(key)+2)
/// 3 |   key1: value1
/// </code>
/// </summary>
public static class Manifest
{
    public const string File = "site.yaml";

    /// <summary>A plain (unquoted) scalar.</summary>
    public static ScalarValue Plain(string text, bool sensitive = false) => new(SourceSpan.None, text, Quoted: false, sensitive);

    /// <summary>A quoted scalar.</summary>
    public static ScalarValue Quoted(string text, bool sensitive = false) => new(SourceSpan.None, text, Quoted: true, sensitive);

    public static ListValue List(params Value[] items) => new(SourceSpan.None, items);

    public static MapValue Map(params (string Key, Value Value)[] entries) =>
        new(SourceSpan.None, entries.Select(e => new KeyValuePair<string, Value>(e.Key, e.Value)).ToList());

    /// <summary>A resource; property i sits on line i + 2. Strings are shorthand for plain scalars.</summary>
    public static CatalogResource Resource(string type, string title, params (string Key, object Value)[] properties) =>
        Resource(type, title, sensitive: false, properties);

    public static CatalogResource Resource(string type, string title, bool sensitive, params (string Key, object Value)[] properties)
    {
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        var keySpans = new Dictionary<string, SourceSpan>(StringComparer.Ordinal);
        for (var i = 0; i < properties.Length; i++)
        {
            var (key, raw) = properties[i];
            var line = i + 2;
            keySpans[key] = new SourceSpan(File, line, 3, line, 3 + key.Length);
            var value = raw as Value ?? Plain((string)raw);
            values[key] = Place(value, line, 3 + key.Length + 2, sensitive);
        }
        var titleColumn = 3 + type.Length + 2;
        return new CatalogResource
        {
            Id = new ResourceId(type, title),
            Span = new SourceSpan(File, 1, 3, 1, 3 + type.Length),
            TitleSpan = new SourceSpan(File, 1, titleColumn, 1, titleColumn + title.Length),
            Properties = values,
            PropertyKeySpans = keySpans,
            Sensitive = sensitive,
            BaseDirectory = "/srv/manifests",
        };
    }

    /// <summary>Gives the value (and its items, left to right on the same line) a span; marks it sensitive with the resource.</summary>
    private static Value Place(Value value, int line, int column, bool sensitive)
    {
        switch (value)
        {
            case ScalarValue s:
                var width = s.Text.Length + (s.Quoted ? 2 : 0);
                return s with { Span = new SourceSpan(File, line, column, line, column + Math.Max(1, width)), Sensitive = s.Sensitive || sensitive };
            case ListValue l:
                var items = new List<Value>();
                var c = column + 1;
                foreach (var item in l.Items)
                {
                    var placed = Place(item, line, c, sensitive);
                    items.Add(placed);
                    c = placed.Span.EndColumn + 2;
                }
                return l with { Span = new SourceSpan(File, line, column, line, c), Items = items, Sensitive = l.Sensitive || sensitive };
            case MapValue m:
                var entries = new List<KeyValuePair<string, Value>>();
                var mc = column + 1;
                foreach (var (key, item) in m.Entries)
                {
                    var placed = Place(item, line, mc + key.Length + 2, sensitive);
                    entries.Add(new(key, placed));
                    mc = placed.Span.EndColumn + 2;
                }
                return m with { Span = new SourceSpan(File, line, column, line, mc), Entries = entries, Sensitive = m.Sensitive || sensitive };
            default:
                throw new ArgumentException("unknown value kind", nameof(value));
        }
    }

    /// <summary>Parses with <paramref name="provider"/>; returns the spec (or null) and every diagnostic as its one-line text.</summary>
    public static (T? Spec, IReadOnlyList<string> Errors) Parse<T>(IResourceProvider provider, CatalogResource resource) where T : ResourceSpec
    {
        var bag = new DiagnosticBag();
        var spec = provider.Parse(resource, bag);
        return ((T?)spec, bag.Sorted().Select(d => d.ToString()).ToList());
    }

    /// <summary>Parses and insists on success.</summary>
    public static T ParseOk<T>(IResourceProvider provider, CatalogResource resource) where T : ResourceSpec
    {
        var (spec, errors) = Parse<T>(provider, resource);
        errors.ShouldBeEmpty();
        return spec.ShouldNotBeNull();
    }
}
