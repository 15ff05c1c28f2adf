using Converge.Engine;
using Converge.Graph;

namespace Converge.Cli.Commands;

/// <summary><c>converge graph [PATH] [--format dot|mermaid|json]</c>: the resource graph, in run order.</summary>
public sealed class GraphCommand(Settings settings, string path)
{
    public int Run(string format)
    {
        if (new ManifestPipeline(settings, Logging.Create(settings)).LoadValid(path) is not { Run: { } run })
            return ExitCodes.ManifestError;
        var graph = run.Graph;
        Console.Out.Write(format switch
        {
            "mermaid" => GraphFormats.ToMermaid(graph),
            "json" => GraphFormats.ToJson(graph),
            _ => GraphFormats.ToDot(graph),
        });
        return ExitCodes.Ok;
    }
}
