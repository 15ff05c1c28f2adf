using Converge.Compiler;
using Converge.Engine;

namespace Converge.Cli.Commands;

/// <summary><c>converge catalog [PATH]</c>: the compiled desired state as JSON, secrets redacted.</summary>
public sealed class CatalogCommand(Settings settings, string path)
{
    public int Run()
    {
        var loaded = new ManifestPipeline(settings, Logging.Create(settings)).Load(path);
        if (!ManifestPipeline.Report(loaded.Diagnostics, Console.Error) || loaded.Catalog is null)
            return ExitCodes.ManifestError;
        Console.Out.Write(CatalogJson.Write(loaded.Catalog));
        return ExitCodes.Ok;
    }
}
