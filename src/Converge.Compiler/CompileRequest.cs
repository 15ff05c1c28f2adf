using System.Text.Json.Nodes;
using Converge.Compiler.Catalog;
using Converge.Compiler.Secrets;
using Converge.Manifests.Diagnostics;

namespace Converge.Compiler;

/// <summary>
/// What to compile: a manifest repo directory (holding <c>site.yaml</c>) or a single manifest file,
/// for one node, with that node's facts as data. The compiler reads only manifest, module, template
/// and <c>files/</c> paths under the manifest and module directories, plus the declared secret sources.
/// </summary>
/// <param name="Path">A directory containing site.yaml, or a single manifest YAML file.</param>
/// <param name="NodeName">The node being compiled for; matched against node entries' <c>match</c> globs.</param>
/// <param name="Facts">The node's facts, visible as <c>facts</c> in expressions.</param>
/// <param name="Types">The known resource types.</param>
public sealed record CompileRequest(string Path, string NodeName, JsonObject Facts, IResourceTypes Types)
{
    /// <summary>Module directories searched after <c>&lt;repo&gt;/modules</c>, in order (Converge's shipped modules).</summary>
    public IReadOnlyList<string> ModuleSearchPath { get; init; } = [];

    /// <summary>Where declared secrets are read from.</summary>
    public ISecretSource Secrets { get; init; } = new EnvironmentAndFileSecretSource();

    /// <summary>Variables that override site and node vars (inventory or command-line vars).</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraVars { get; init; } = new Dictionary<string, JsonNode?>();
}

/// <summary>
/// The outcome of a compile. <see cref="Catalog"/> is null when any diagnostic is an error.
/// <see cref="Diagnostics"/> are sorted by position; none contains a secret value.
/// <see cref="SourceFiles"/> lists every manifest, module, template and source file the compile read.
/// </summary>
public sealed record CompileResult(ResourceCatalog? Catalog, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<string> SourceFiles)
{
    /// <summary>
    /// The resources that did compile, even when others did not: later checks (each type's properties)
    /// run on them too, so one `validate` shows every error. Never applied.
    /// </summary>
    public ResourceCatalog? Partial { get; init; }

    /// <summary>True when the compile produced a catalog.</summary>
    public bool Succeeded => Catalog is not null;
}
