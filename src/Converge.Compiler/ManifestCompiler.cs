using Converge.Compiler.Compilation;

namespace Converge.Compiler;

/// <summary>
/// Compiles manifests into a <see cref="Catalog.ResourceCatalog"/> for one node. Pure with respect to
/// the host: facts arrive as data; the only reads are manifest, module, template and source files and
/// the declared secret sources. Never throws for bad manifests: every problem is a diagnostic.
/// </summary>
public static class ManifestCompiler
{
    /// <summary>
    /// Compiles <paramref name="request"/>. Collects every diagnostic it can before stopping; the
    /// result's catalog is null when any of them is an error.
    /// </summary>
    public static CompileResult Compile(CompileRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new CompileSession(request).Run();
    }
}
