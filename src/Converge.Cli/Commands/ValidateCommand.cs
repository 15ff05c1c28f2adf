using Converge.Engine;

namespace Converge.Cli.Commands;

/// <summary><c>converge validate [PATH]</c>: every error at once, each with file:line:col; exit 1 on errors. Touches nothing.</summary>
public sealed class ValidateCommand(Settings settings, string path)
{
    public int Run()
    {
        var loaded = new ManifestPipeline(settings, Logging.Create(settings)).Load(path);
        if (!ManifestPipeline.Report(loaded.Diagnostics, Console.Error) || loaded.Run is null)
            return ExitCodes.ManifestError;
        var resources = loaded.Run.Resources.Count;
        var edges = loaded.Run.Graph.Edges.Count;
        Console.Out.WriteLine($"{ManifestPipeline.DisplayPath(Path.GetFullPath(path))}: valid for node {loaded.Node}: " +
            $"{resources} resource{(resources == 1 ? "" : "s")}, {edges} edge{(edges == 1 ? "" : "s")}");
        return ExitCodes.Ok;
    }
}
