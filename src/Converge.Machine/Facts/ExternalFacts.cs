using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Machine.Native;
using YamlDotNet.Core;

namespace Converge.Machine.Facts;

/// <summary>
/// Facts from the facts.d directory: <c>*.yaml</c>, <c>*.yml</c> and <c>*.json</c> files hold a map of
/// facts; any other executable file is run and must print such a map as JSON. Sources are merged in
/// ordinal name order, each replacing top-level keys before it (built-in facts included, as with
/// Puppet's external facts). A broken source adds a warning and contributes nothing.
/// </summary>
internal static class ExternalFacts
{
    private const int AnyExecuteBits = 0x49; // 0111

    /// <summary>Merges every source into <paramref name="facts"/>; executables run concurrently.</summary>
    public static async Task MergeAsync(JsonObject facts, FactOptions options, ISystem system, List<string> warnings, CancellationToken ct)
    {
        var directory = options.ResolvedFactsDirectory;
        if (system.Stat(directory) is not { Kind: FileKind.Directory }) return;

        IReadOnlyList<string> names;
        try
        {
            names = system.ListDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add($"{directory}: cannot list external facts: {e.Message}");
            return;
        }

        var sources = names
            .Select(name => Path.Join(directory, name))
            .Select(path => (Path: path, Status: system.Stat(path)))
            .Where(s => s.Status is { Kind: FileKind.File })
            .Select(s => (s.Path, Load: LoadAsync(s.Path, s.Status!, options, system, ct)))
            .ToList();

        foreach (var (path, load) in sources)
        {
            var (loaded, warning) = await load.ConfigureAwait(false);
            if (warning is not null) warnings.Add($"{path}: {warning}");
            if (loaded is null) continue;
            foreach (var (key, value) in loaded.ToList())
            {
                loaded.Remove(key);
                facts[key] = value;
            }
        }
    }

    private static Task<(JsonObject?, string?)> LoadAsync(string path, FileStatus status, FactOptions options, ISystem system, CancellationToken ct)
    {
        var extension = Path.GetExtension(path);
        if (extension is ".yaml" or ".yml") return Task.FromResult(Read(path, system, yaml: true));
        if (extension is ".json") return Task.FromResult(Read(path, system, yaml: false));
        if ((status.Mode.Bits & AnyExecuteBits) != 0) return RunAsync(path, options, system, ct);
        return Task.FromResult<(JsonObject?, string?)>((null, null)); // a README or the like
    }

    private static (JsonObject?, string?) Read(string path, ISystem system, bool yaml)
    {
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(system.ReadAllBytes(path));
            var node = yaml ? YamlToJson.Convert(text) : JsonNode.Parse(text);
            return AsObject(node, yaml ? "YAML" : "JSON");
        }
        catch (YamlException e)
        {
            return (null, $"invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        catch (JsonException e)
        {
            return (null, $"invalid JSON: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read: {e.Message}");
        }
    }

    private static async Task<(JsonObject?, string?)> RunAsync(string path, FactOptions options, ISystem system, CancellationToken ct)
    {
        ProcessResult result;
        try
        {
            result = await system.RunAsync(new ProcessSpec([path]) { Timeout = options.ExternalFactTimeout }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot run: {e.Message}");
        }
        if (result.TimedOut)
            return (null, $"killed after {options.ExternalFactTimeout.TotalSeconds:0.#} s without finishing");
        if (result.ExitCode != 0)
            return (null, $"exited with code {result.ExitCode}: {result.Tail()}");
        try
        {
            return AsObject(JsonNode.Parse(result.StandardOutput), "JSON output");
        }
        catch (JsonException e)
        {
            return (null, $"output is not valid JSON: {e.Message}");
        }
    }

    private static (JsonObject?, string?) AsObject(JsonNode? node, string what) => node switch
    {
        JsonObject o => (o, null),
        null => (null, $"{what} is empty; expected a map of facts"),
        _ => (null, $"{what} is a {node.GetValueKind().ToString().ToLowerInvariant()}; expected a map of facts"),
    };
}
