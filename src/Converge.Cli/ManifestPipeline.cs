using System.Diagnostics;
using System.Text.Json.Nodes;
using Converge.Compiler;
using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Machine.Facts;
using Converge.Manifests.Diagnostics;
using Converge.Providers;
using Converge.Providers.Contract;
using Serilog;

namespace Converge.Cli;

/// <summary>
/// The read-only front half of every command: facts → compile → validate specs and graph. Touches
/// nothing on the host. Diagnostics from every step are collected so the user sees all of them at once.
/// </summary>
public sealed class ManifestPipeline(Settings settings, ILogger log)
{
    public ProviderRegistry Providers { get; } = BuiltInProviders.Registry();

    /// <summary>Vars that override site and node vars (from <c>--vars-file</c>).</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraVars { get; init; } = new Dictionary<string, JsonNode?>();

    public sealed record Result(
        JsonObject Facts,
        string Node,
        ResourceCatalog? Catalog,
        PreparedRun? Run,
        IReadOnlyList<Diagnostic> Diagnostics)
    {
        public bool Ok => Run is not null && !Diagnostics.Any(d => d.Severity == Severity.Error);
    }

    public JsonObject GatherFacts()
    {
        var clock = Stopwatch.StartNew();
        // A console app has no synchronization context: blocking here is safe and keeps commands simple.
        var gathered = new FactGatherer(new FactOptions { FactsDirectory = settings.FactsDir, Hostname = settings.Node })
            .GatherAsync(CancellationToken.None).GetAwaiter().GetResult();
        foreach (var w in gathered.Warnings) log.Warning("Facts: {Warning}", w);
        log.Debug("Gathered facts in {Elapsed:0.0} ms ({AllocatedMb:0} MB allocated so far)", clock.Elapsed.TotalMilliseconds, GC.GetTotalAllocatedBytes() / 1048576.0);
        return gathered.Facts;
    }

    public Result Load(string path)
    {
        var facts = GatherFacts();
        var node = settings.Node ?? (string?)facts["hostname"] ?? Environment.MachineName;
        var clock = Stopwatch.StartNew();
        var compiled = ManifestCompiler.Compile(new CompileRequest(Path.GetFullPath(path), node, facts, Providers)
        {
            ModuleSearchPath = ShippedModules.SearchPath(),
            ExtraVars = ExtraVars,
        });
        log.Debug("Compiled {Count} resources for {Node} in {Elapsed:0.0} ms ({AllocatedMb:0} MB allocated so far)",
            compiled.Catalog?.Resources.Count ?? 0, node, clock.Elapsed.TotalMilliseconds, GC.GetTotalAllocatedBytes() / 1048576.0);
        var diagnostics = new DiagnosticBag();
        diagnostics.AddRange(compiled.Diagnostics);
        PreparedRun? run = null;
        if (compiled.Catalog is not null)
        {
            clock.Restart();
            run = RunPreparer.Prepare(compiled.Catalog, Providers, diagnostics);
            log.Debug("Validated specs and graph in {Elapsed:0.0} ms ({AllocatedMb:0} MB allocated so far)", clock.Elapsed.TotalMilliseconds, GC.GetTotalAllocatedBytes() / 1048576.0);
        }
        else if (compiled.Partial is { } partial)
        {
            // The graph needs every resource, so it waits for a clean compile; properties need not.
            RunPreparer.ParseSpecs(partial, Providers, diagnostics);
        }
        return new Result(facts, node, compiled.Catalog, run, diagnostics.Sorted());
    }

    /// <summary>
    /// Loads <paramref name="path"/> and prints its diagnostics to stderr. Returns null when any is an
    /// error (the caller exits with <see cref="Engine.ExitCodes.ManifestError"/>; nothing was touched).
    /// </summary>
    public Result? LoadValid(string path)
    {
        var loaded = Load(path);
        return Report(loaded.Diagnostics, Console.Error) && loaded.Run is not null ? loaded : null;
    }

    /// <summary>Prints diagnostics (with source excerpts) to stderr; returns true when none is an error.</summary>
    public static bool Report(IReadOnlyList<Diagnostic> diagnostics, TextWriter error)
    {
        if (diagnostics.Count == 0) return true;
        var renderer = DiagnosticRenderer.ForFiles();
        // Positions inside messages ("first defined at …") are shortened the same way as the leading one.
        var cwd = Environment.CurrentDirectory.TrimEnd('/') + "/";
        foreach (var d in diagnostics)
            error.WriteLine(renderer.Render(d with
            {
                Span = d.Span with { File = DisplayPath(d.Span.File) },
                Message = d.Message.Replace(cwd, "", StringComparison.Ordinal),
            }));
        var errors = diagnostics.Count(d => d.Severity == Severity.Error);
        var warnings = diagnostics.Count - errors;
        if (errors > 0)
            error.WriteLine($"{errors} error{(errors == 1 ? "" : "s")}{(warnings > 0 ? $", {warnings} warning{(warnings == 1 ? "" : "s")}" : "")}; nothing was changed.");
        return errors == 0;
    }

    /// <summary>A path relative to the working directory when it lies below it: what the user typed, not /long/absolute/paths.</summary>
    public static string DisplayPath(string path)
    {
        if (string.IsNullOrEmpty(path) || !Path.IsPathRooted(path)) return path;
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}

/// <summary>
/// Where the modules that ship with Converge live: when run from a build inside the source tree, the
/// repo's modules/ folder; otherwise beside the executable (published builds copy modules/ there), then
/// /usr/share/converge/modules. $CONVERGE_MODULE_PATH (colon-separated) comes first.
/// </summary>
public static class ShippedModules
{
    /// <summary>Every existing module directory, in search order (also what `converge ssh` ships to hosts).</summary>
    public static IReadOnlyList<string> SearchPath()
    {
        var dirs = new List<string>();
        var env = Environment.GetEnvironmentVariable("CONVERGE_MODULE_PATH");
        if (!string.IsNullOrEmpty(env)) dirs.AddRange(env.Split(':', StringSplitOptions.RemoveEmptyEntries));
        var exeDir = AppContext.BaseDirectory;
        // Run from a build inside the source tree: the repo's modules/ is the live copy (the one beside
        // the binary is a build artefact that lags behind edits).
        for (var d = new DirectoryInfo(exeDir); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Converge.sln")))
            {
                dirs.Add(Path.Combine(d.FullName, "modules"));
                return dirs.Where(Directory.Exists).Distinct().ToList();
            }
        }
        dirs.Add(Path.Combine(exeDir, "modules"));
        dirs.Add("/usr/share/converge/modules");
        return dirs.Where(Directory.Exists).Distinct().ToList();
    }
}
