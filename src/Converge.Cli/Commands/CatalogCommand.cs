using Converge.Compiler;
using Converge.Engine;

namespace Converge.Cli.Commands;

/// <summary><c>converge catalog [PATH]</c>: the compiled desired state as JSON, secrets redacted.</summary>
public sealed class CatalogCommand(Settings settings, string path)
{
    public int Run()
    {
        if (new ManifestPipeline(settings, Logging.Create(settings)).LoadValid(path) is not { Catalog: { } catalog, Run: { } run })
            return ExitCodes.ManifestError;
        // Providers know which properties are secret by nature (a password hash written literally).
        Console.Out.Write(CatalogJson.Write(catalog,
            (id, property) => run.Resources.TryGetValue(id, out var r) && r.Spec.IsSensitive(property)));
        return ExitCodes.Ok;
    }
}
