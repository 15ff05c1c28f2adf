using System.Text.Json;
using Converge.Engine;

namespace Converge.Cli.Commands;

/// <summary><c>converge facts</c>: the facts a compile would see, as JSON.</summary>
public static class FactsCommand
{
    public static int Run(Settings settings)
    {
        var facts = new ManifestPipeline(settings, Logging.Create(settings)).GatherFacts();
        Console.Out.WriteLine(facts.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return ExitCodes.Ok;
    }
}
