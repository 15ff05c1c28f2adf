using Converge.Engine;

namespace Converge.Cli.Commands;

/// <summary><c>converge validate [PATH]</c>: every error at once, each with file:line:col; exit 1 on errors. Touches nothing.</summary>
public sealed class ValidateCommand(Settings settings, string path)
{
    public int Run()
    {
        if (new ManifestPipeline(settings, Logging.Create(settings)).LoadValid(path) is not { Run: { } run } loaded)
            return ExitCodes.ManifestError;
        var resources = run.Resources.Count;
        var edges = run.Graph.Edges.Count;
        Console.Out.WriteLine($"{ManifestPipeline.DisplayPath(Path.GetFullPath(path))}: valid for node {loaded.Node}: " +
            $"{resources} resource{(resources == 1 ? "" : "s")}, {edges} edge{(edges == 1 ? "" : "s")}");
        return ExitCodes.Ok;
    }
}
