using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Compiler.Compilation;

/// <summary>Small checks on the shape of manifest nodes, each reporting the CVG2001/CVG2002 errors.</summary>
internal static class Keys
{
    /// <summary>Reports every key of <paramref name="map"/> not in <paramref name="allowed"/>, with did-you-mean.</summary>
    public static void Check(MappingNode map, IReadOnlyCollection<string> allowed, string where, DiagnosticBag diagnostics, string? resource = null)
    {
        foreach (var e in map.Entries)
            if (!allowed.Contains(e.Key.Value))
                diagnostics.Error(CompilerCodes.UnknownKey, e.Key.Span,
                    $"unknown key '{e.Key.Value}' in {where}{Suggest.DidYouMean(e.Key.Value, allowed)}; the keys are: {string.Join(", ", allowed)}",
                    resource);
    }

    /// <summary>The node as a map, or null after reporting "<paramref name="what"/> must be a map; got …".</summary>
    public static MappingNode? Map(SyntaxNode? node, string what, DiagnosticBag diagnostics, string? resource = null)
    {
        if (node is null || node is ScalarNode { IsNull: true }) return null;
        if (node is MappingNode map) return map;
        diagnostics.Error(CompilerCodes.WrongForm, node.Span, $"{what} must be a map; got {node.KindName}", resource);
        return null;
    }

    /// <summary>The node as a list, or null after reporting "<paramref name="what"/> must be a list; got …".</summary>
    public static SequenceNode? List(SyntaxNode? node, string what, DiagnosticBag diagnostics, string? resource = null)
    {
        if (node is null || node is ScalarNode { IsNull: true }) return null;
        if (node is SequenceNode seq) return seq;
        diagnostics.Error(CompilerCodes.WrongForm, node.Span, $"{what} must be a list; got {node.KindName}", resource);
        return null;
    }
}
