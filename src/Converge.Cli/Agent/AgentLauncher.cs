using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Agent;
using Converge.Engine;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Reporting;

namespace Converge.Cli.Agent;

/// <summary>What <c>converge agent</c> was given on the command line (null: not given).</summary>
public sealed record AgentFlags(
    string? Config, string? Source, string? Branch, string? Revision, string? Path, string? Interval, string? Splay,
    bool Once, bool Noop, string? RunTimeout, string? LockTimeout, string? ShutdownTimeout, string? FetchTimeout,
    bool VerifySignatures, string? Keyring, string? MetricsDir, int? KeepReports, int? KeepDays,
    string? StateDirFlag, string? NodeFlag, string? FactsDirFlag);

/// <summary>
/// Everything behind <c>converge agent …</c>. Kept apart from <see cref="CliApp"/> so that building the
/// command line never touches the Converge.Agent assembly: it (and Microsoft.Extensions.Hosting) load
/// only when an agent command actually runs, and <c>converge apply</c> starts as fast as before.
/// </summary>
public static class AgentLauncher
{
    public static async Task<int> RunAsync(Settings settings, AgentFlags flags, CancellationToken ct)
    {
        var resolved = Resolve(settings, flags);
        if (resolved is null) return ExitCodes.Usage;
        var (options, effective) = resolved.Value;
        return await AgentHost.RunAsync(options, log => new AgentManifestRunner(effective, log) { Retention = options.Retention }, effective.Verbosity, ct);
    }

    /// <summary>Config file overlaid with flags; prints the problem and returns null on bad input.</summary>
    internal static (AgentOptions, Settings)? Resolve(Settings settings, AgentFlags f)
    {
        var config = new AgentConfig();
        if (f.Config is not null)
        {
            var diagnostics = new DiagnosticBag();
            var loaded = AgentConfigFile.Load(f.Config, diagnostics);
            ManifestPipeline.Report(diagnostics.Sorted(), Console.Error);
            if (loaded is null) return null;
            config = loaded;
        }

        var problems = new List<string>();
        TimeSpan Duration(string? flag, TimeSpan? fromConfig, TimeSpan fallback, string name)
        {
            if (flag is null) return fromConfig ?? fallback;
            if (Durations.TryParse(flag, out var t)) return t;
            problems.Add($"{name}: '{flag}' is not a duration; write it like 30s, 5m, 1h or 2d");
            return fallback;
        }

        var source = f.Source ?? config.Source;
        if (source is null) problems.Add("say where the manifests come from: --source URL|PATH (or source: in --config FILE)");
        var interval = Duration(f.Interval, config.Interval, TimeSpan.FromMinutes(30), "--interval");
        if (interval <= TimeSpan.Zero) problems.Add("--interval must be more than 0");
        // The state dir: --state-dir or $CONVERGE_STATE_DIR (already in settings), else the config's, else the default.
        var effective = settings with
        {
            StateDir = settings.StateDir ?? config.StateDir,
            Node = settings.Node ?? config.Node,
            FactsDir = f.FactsDirFlag is null && Environment.GetEnvironmentVariable("CONVERGE_FACTS_DIR") is null or "" && config.FactsDir is not null
                ? config.FactsDir
                : settings.FactsDir,
        };
        var defaults = new AgentOptions { Source = "", StateDir = "", LockPath = "" };
        var retention = config.Retention ?? Converge.Notify.RetentionConfig.Default;
        var options = new AgentOptions
        {
            Source = source ?? "",
            Branch = f.Branch ?? config.Branch ?? defaults.Branch,
            Revision = f.Revision ?? config.Revision,
            Path = f.Path ?? config.Path ?? defaults.Path,
            Interval = interval,
            Splay = Duration(f.Splay, config.Splay, TimeSpan.Zero, "--splay"),
            Once = f.Once,
            Noop = f.Noop || (config.Noop ?? false),
            RunTimeout = Duration(f.RunTimeout, config.RunTimeout, defaults.RunTimeout, "--run-timeout"),
            LockTimeout = Duration(f.LockTimeout, config.LockTimeout, defaults.LockTimeout, "--lock-timeout"),
            ShutdownTimeout = Duration(f.ShutdownTimeout, config.ShutdownTimeout, defaults.ShutdownTimeout, "--shutdown-timeout"),
            FetchTimeout = Duration(f.FetchTimeout, config.FetchTimeout, defaults.FetchTimeout, "--fetch-timeout"),
            VerifySignatures = f.VerifySignatures || (config.VerifySignatures ?? false),
            Keyring = f.Keyring ?? config.Keyring,
            MetricsDir = f.MetricsDir ?? config.MetricsDir,
            // Flags, then agent.yaml's keep_reports/keep_days, then its retention.reports, then the defaults
            // (the same as a manual run's, since both prune the same reports directory).
            KeepReports = f.KeepReports ?? config.KeepReports ?? retention.ReportsKeep,
            KeepAge = f.KeepDays is { } days ? TimeSpan.FromDays(days) : config.KeepAge ?? retention.ReportsMaxAge,
            // The bucket protects as many runs as there are reports to undo, whichever spelling set the count.
            Retention = retention with { ReportsKeep = f.KeepReports ?? config.KeepReports ?? retention.ReportsKeep },
            StateDir = Path.GetFullPath(effective.EffectiveStateDir),
            LockPath = effective.LockPath,
            Notify = config.Notify ?? Converge.Notify.NotifyConfig.Empty,
        };
        // The manifests come from the fetched revision: a path that leaves it would converge whatever is on the host there.
        if (Path.IsPathRooted(options.Path) || options.Path.Split('/').Contains(".."))
            problems.Add($"--path must be relative to the repository and stay inside it; got '{options.Path}'");
        if (f.KeepReports is < 1) problems.Add("--keep-reports must be at least 1");
        if (f.KeepDays is < 1) problems.Add("--keep-days must be at least 1");
        if (problems.Count > 0)
        {
            foreach (var p in problems) Console.Error.WriteLine($"converge agent: {p}");
            Console.Error.WriteLine("Try 'converge agent --help'.");
            return null;
        }
        // A local source is fetched from wherever the agent runs: make a relative path absolute now.
        if (!options.Source.Contains("://", StringComparison.Ordinal) && !options.Source.Contains('@') && Directory.Exists(options.Source))
            options = options with { Source = Path.GetFullPath(options.Source) };
        return (options, effective);
    }

    public static int Disable(Settings settings, string reason)
    {
        var state = new AgentState(settings.EffectiveStateDir);
        var (user, sudoUser) = RunContext.CurrentUser();
        try
        {
            state.Disable(new DisabledMark(reason, sudoUser ?? user, DateTimeOffset.UtcNow));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"converge: cannot use state directory {settings.EffectiveStateDir}: {e.Message} (run as root, or pass --state-dir)");
            return ExitCodes.Failures;
        }
        Console.WriteLine($"converge agent disabled: {reason}");
        Console.WriteLine("Runs are skipped (a run in progress finishes) until 'converge agent enable'.");
        return ExitCodes.Ok;
    }

    public static int Enable(Settings settings)
    {
        bool was;
        try
        {
            was = new AgentState(settings.EffectiveStateDir).Enable();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"converge: cannot use state directory {settings.EffectiveStateDir}: {e.Message} (run as root, or pass --state-dir)");
            return ExitCodes.Failures;
        }
        Console.WriteLine(was ? "converge agent enabled: the next cycle runs as scheduled (systemctl reload converge-agent runs it now)" : "converge agent was not disabled");
        return ExitCodes.Ok;
    }

    public static int Status(Settings settings, bool json)
    {
        var stateDir = settings.EffectiveStateDir;
        var state = AgentState.Load(stateDir);
        var disabled = state.Disabled();
        var pid = RunLock.ReadHolderPid(state.AgentLockPath);
        var running = pid is { } p && Directory.Exists($"/proc/{p}");
        var lastRun = new ReportStore(stateDir).ReadLastRun();
        if (json)
        {
            var o = new JsonObject
            {
                ["running"] = running,
                ["pid"] = running ? pid : null,
                ["disabled"] = disabled is null ? null : new JsonObject { ["reason"] = disabled.Reason, ["by"] = disabled.By, ["since"] = disabled.Since.ToString("O") },
                ["lastGoodRevision"] = state.LastGood,
                ["lastConvergedRevision"] = state.LastConverged,
                ["lastRun"] = lastRun,
            };
            Console.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }
        Console.WriteLine(running ? $"agent:       running (pid {pid})" : "agent:       not running");
        Console.WriteLine(disabled is null ? "state:       enabled" : $"state:       disabled by {disabled.By} since {disabled.Since:u}: {disabled.Reason}");
        Console.WriteLine($"last good:   {state.LastGood ?? "none yet"}");
        if (lastRun is null)
        {
            Console.WriteLine("last run:    none");
            return ExitCodes.Ok;
        }
        Console.WriteLine($"last run:    {(string?)lastRun["finishedAt"]} exit {lastRun["exitCode"]}");
        if ((string?)lastRun["summary"] is { } summary) Console.WriteLine($"             {summary}");
        if (lastRun["fallback"] is JsonValue fb && fb.TryGetValue<bool>(out var fallback) && fallback)
            Console.WriteLine($"fallback:    {(string?)lastRun["fallbackReason"]}");
        if ((string?)lastRun["report"] is { } report) Console.WriteLine($"report:      {report}");
        return ExitCodes.Ok;
    }
}
