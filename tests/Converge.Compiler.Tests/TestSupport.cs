using System.Text.Json.Nodes;
using Converge.Compiler.Catalog;
using Converge.Compiler.Secrets;

namespace Converge.Compiler.Tests;

/// <summary>The resource types the tests know: file, directory, link, exec.</summary>
public sealed class TestTypes : IResourceTypes
{
    public static readonly TestTypes Instance = new();
    public IReadOnlyCollection<string> TypeNames { get; } = ["file", "directory", "link", "exec"];
    public bool IsKnown(string type) => TypeNames.Contains(type);
}

/// <summary>Secrets from tables, recording nothing else about the host.</summary>
public sealed class TableSecrets : ISecretSource
{
    public Dictionary<string, string> Env { get; } = new();
    public Dictionary<string, string> Files { get; } = new();
    public string? ReadEnvironment(string variable) => Env.GetValueOrDefault(variable);
    public string? ReadFile(string path) => Files.GetValueOrDefault(path);
}

/// <summary>A real temporary manifest directory, deleted on dispose.</summary>
public sealed class TempRepo : IDisposable
{
    public TempRepo()
    {
        Root = Path.Combine(Path.GetTempPath(), "converge-compiler-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public TempRepo Write(string relative, string text)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return this;
    }

    public CompileResult Compile(string node = "web-1", JsonObject? facts = null, string? path = null,
        Func<CompileRequest, CompileRequest>? configure = null)
    {
        var request = new CompileRequest(path ?? Root, node, facts ?? DefaultFacts(), TestTypes.Instance);
        if (configure is not null) request = configure(request);
        return ManifestCompiler.Compile(request);
    }

    public static JsonObject DefaultFacts() => new()
    {
        ["os"] = new JsonObject { ["family"] = "debian", ["release"] = 12 },
        ["cpus"] = 4,
        ["virtual"] = false,
    };

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

internal static class ResultExtensions
{
    public static ResourceCatalog ShouldSucceed(this CompileResult result)
    {
        result.Diagnostics.Where(d => d.Severity == Converge.Manifests.Diagnostics.Severity.Error)
            .Select(d => d.ToString()).ShouldBeEmpty();
        return result.Catalog.ShouldNotBeNull();
    }

    public static Converge.Manifests.Diagnostics.Diagnostic ShouldFailWith(this CompileResult result, string code)
    {
        result.Catalog.ShouldBeNull();
        var matching = result.Diagnostics.Where(d => d.Code == code).ToList();
        matching.ShouldNotBeEmpty($"expected {code}; got: {string.Join("\n", result.Diagnostics)}");
        return matching[0];
    }

    public static CatalogResource Resource(this ResourceCatalog catalog, string id)
        => catalog.Resources.SingleOrDefault(r => r.Id.ToString() == id)
           ?? throw new ShouldAssertException($"no {id} in: {string.Join(", ", catalog.Resources.Select(r => r.Id))}");

    public static string Text(this CatalogResource resource, string property)
        => resource.Properties[property].ShouldBeOfType<ScalarValue>().Text;
}
