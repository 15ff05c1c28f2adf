using Converge.Engine;
using Converge.Graph;

namespace Converge.Cli.Commands;

/// <summary><c>converge graph [PATH] [--format dot|mermaid|json]</c>: the resource graph, in run order.</summary>
public sealed class GraphCommand(Settings settings, string path)
{
    public int Run(string format)
    {
        var loaded = new ManifestPipeline(settings, Logging.Create(settings)).Load(path);
        if (!ManifestPipeline.Report(loaded.Diagnostics, Console.Error) || loaded.Run is null)
            return ExitCodes.ManifestError;
        var graph = loaded.Run.Graph;
        Console.Out.Write(format switch
        {
            "mermaid" => GraphFormats.ToMermaid(graph),
            "json" => GraphFormats.ToJson(graph),
            _ => GraphFormats.ToDot(graph),
        });
        return ExitCodes.Ok;
    }
}
