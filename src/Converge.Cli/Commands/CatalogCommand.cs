using Converge.Compiler;
using Converge.Engine;

namespace Converge.Cli.Commands;

/// <summary><c>converge catalog [PATH]</c>: the compiled desired state as JSON, secrets redacted.</summary>
public sealed class CatalogCommand(Settings settings, string path)
{
    public int Run()
    {
        if (new ManifestPipeline(settings, Logging.Create(settings)).LoadValid(path) is not { Catalog: { } catalog })
            return ExitCodes.ManifestError;
        Console.Out.Write(CatalogJson.Write(catalog));
        return ExitCodes.Ok;
    }
}
