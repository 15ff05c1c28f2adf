using Converge.Manifests.Diagnostics;

namespace Converge.Compiler.Catalog;

/// <summary>
/// A resolved property value in the catalog: interpolation is done, positions are kept.
/// <see cref="Sensitive"/> is set when the value was derived from a secret (or the resource is
/// marked sensitive); every view of such a value prints <c>(redacted)</c>.
/// </summary>
public abstract record Value(SourceSpan Span, bool Sensitive)
{
    public const string Redacted = "(redacted)";

    public abstract string KindName { get; }
}

/// <summary>
/// A scalar, kept as text: typed parsing (mode, uid, bool) belongs to the provider's spec, which
/// knows what the property means. <see cref="Quoted"/> tells a quoted <c>"644"</c> from a plain <c>644</c>.
/// </summary>
public sealed record ScalarValue(SourceSpan Span, string Text, bool Quoted, bool Sensitive = false) : Value(Span, Sensitive)
{
    public bool IsNull => !Quoted && (Text.Length == 0 || Text is "~" or "null" or "Null" or "NULL");

    public override string KindName => IsNull ? "null" : "a string";

    public override string ToString() => Sensitive ? Redacted : Text;
}

public sealed record ListValue(SourceSpan Span, IReadOnlyList<Value> Items, bool Sensitive = false) : Value(Span, Sensitive)
{
    public override string KindName => "a list";
}

public sealed record MapValue(SourceSpan Span, IReadOnlyList<KeyValuePair<string, Value>> Entries, bool Sensitive = false) : Value(Span, Sensitive)
{
    public override string KindName => "a map";

    public Value? this[string key]
    {
        get
        {
            foreach (var e in Entries)
                if (e.Key == key) return e.Value;
            return null;
        }
    }
}
