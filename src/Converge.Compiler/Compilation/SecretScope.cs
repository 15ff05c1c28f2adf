using Converge.Compiler.Secrets;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Reads the secrets a file declares (<c>secrets: { name: { env: VAR, file: /path } }</c>) through the
/// <see cref="ISecretSource"/> and exposes them to Scriban as a <see cref="TrackedObject"/> whose every
/// member is tainted, so any value computed from one is marked sensitive. Collects every clear-text
/// value for <c>ResourceCatalog.SecretValues</c>. Messages name secrets and sources, never values.
/// </summary>
internal sealed class SecretScope(ISecretSource source, TaintTracker tracker, DiagnosticBag diagnostics)
{
    private static readonly string[] DeclarationKeys = ["env", "file", "description"];
    private readonly List<string> _values = new();

    /// <summary>Every secret value read so far, in read order, without duplicates.</summary>
    public IReadOnlyList<string> Values => _values;

    /// <summary>
    /// A <c>secrets</c> object holding <paramref name="inherited"/>'s members overlaid with those declared
    /// in <paramref name="declarations"/> (a file's <c>secrets:</c> node; null when it has none).
    /// Relative <c>file</c> paths are taken from <paramref name="baseDirectory"/>.
    /// </summary>
    public TrackedObject Declare(SyntaxNode? declarations, string baseDirectory, TrackedObject? inherited)
    {
        var result = new TrackedObject(tracker, "secrets");
        if (inherited is not null)
            foreach (var name in inherited.GetMembers())
                result.Set(name, inherited.Get(name), tainted: true);

        if (Keys.Map(declarations, "'secrets'", diagnostics) is not { } map) return result;
        foreach (var entry in map.Entries)
        {
            var name = entry.Key.Value;
            if (Keys.Map(entry.Value, $"secret '{name}'", diagnostics) is not { } decl)
            {
                if (entry.Value is ScalarNode { IsNull: true })
                    diagnostics.Error(CompilerCodes.BadSecretDeclaration, entry.Key.Span,
                        $"secret '{name}' needs a source: {{ env: VARIABLE }} and/or {{ file: /path }}");
                continue;
            }
            Keys.Check(decl, DeclarationKeys, $"secret '{name}'", diagnostics);
            var env = Scalar(decl, "env", name);
            var file = Scalar(decl, "file", name);
            if (env is null && file is null)
            {
                diagnostics.Error(CompilerCodes.BadSecretDeclaration, entry.Key.Span,
                    $"secret '{name}' needs a source: {{ env: VARIABLE }} and/or {{ file: /path }}");
                continue;
            }

            var filePath = file is null ? null : Path.GetFullPath(Path.Combine(baseDirectory, file));
            var value = (env is null ? null : source.ReadEnvironment(env))
                        ?? (filePath is null ? null : source.ReadFile(filePath));
            if (value is null)
            {
                var tried = new List<string>();
                if (env is not null) tried.Add($"environment variable {env} is not set");
                if (filePath is not null) tried.Add($"file {filePath} does not exist or cannot be read");
                diagnostics.Error(CompilerCodes.SecretMissing, entry.Key.Span,
                    $"secret '{name}' (declared at {entry.Key.Span}) is not available: {string.Join(" and ", tried)}");
                // Declared, only unreadable: uses of it must not each report "no member" on top. The
                // compile has failed already, so this placeholder never reaches a catalog.
                result.Set(name, "", tainted: true);
                continue;
            }
            if (value.Length > 0 && !_values.Contains(value)) _values.Add(value);
            result.Set(name, value, tainted: true);
        }
        return result;
    }

    private string? Scalar(MappingNode decl, string key, string secret)
    {
        var node = decl[key];
        if (node is null || node is ScalarNode { IsNull: true }) return null;
        if (node is ScalarNode s) return s.Value;
        diagnostics.Error(CompilerCodes.WrongForm, node.Span, $"'{key}' of secret '{secret}' must be a string; got {node.KindName}");
        return null;
    }
}
