using Converge.Manifests.Diagnostics;

namespace Converge.Manifests.Syntax;

/// <summary>
/// The manifest syntax tree: YAML reduced to scalars, mappings and sequences, each with its
/// <see cref="SourceSpan"/>. Aliases are already expanded (within a bound) and duplicate keys
/// already reported, so later seams never see raw YAML.
/// </summary>
public abstract record SyntaxNode(SourceSpan Span)
{
    /// <summary>A short name of the node's kind for error messages: "a string", "a list", "a map".</summary>
    public abstract string KindName { get; }
}

/// <summary>
/// A scalar. <see cref="Quoted"/> is true for single/double-quoted and block scalars: those are
/// always strings, while a plain <c>644</c> or <c>true</c> may be read as a number or boolean.
/// </summary>
public sealed record ScalarNode(SourceSpan Span, string Value, bool Quoted) : SyntaxNode(Span)
{
    /// <summary>A plain <c>~</c>, <c>null</c> or empty scalar.</summary>
    public bool IsNull => !Quoted && (Value.Length == 0 || Value is "~" or "null" or "Null" or "NULL");

    public override string KindName => IsNull ? "null" : "a string";
}

public sealed record MappingEntry(ScalarNode Key, SyntaxNode Value);

/// <summary>A mapping with its entries in document order; keys are unique (duplicates were reported).</summary>
public sealed record MappingNode(SourceSpan Span, IReadOnlyList<MappingEntry> Entries) : SyntaxNode(Span)
{
    public override string KindName => "a map";

    // Indexed loops: a foreach over the IReadOnlyList interface boxes an enumerator per lookup, and
    // the compiler looks keys up several times for each of thousands of resources.
    public SyntaxNode? this[string key] => Entry(key)?.Value;

    public MappingEntry? Entry(string key)
    {
        for (var i = 0; i < Entries.Count; i++)
            if (Entries[i].Key.Value == key) return Entries[i];
        return null;
    }
}

public sealed record SequenceNode(SourceSpan Span, IReadOnlyList<SyntaxNode> Items) : SyntaxNode(Span)
{
    public override string KindName => "a list";
}
