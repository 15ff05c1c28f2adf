using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Notify;
using Converge.Reporting;

namespace Converge.Cli.Commands;

/// <summary>
/// What <c>apply</c> does for notifications (docs/notifications.md), kept out of <see cref="ApplyCommand"/>
/// so that its run stays readable: read the config file first (a mistake stops the run before anything
/// is touched), note the revision the host was on, and start the deliveries once the report is saved.
/// </summary>
internal static class ApplyNotifications
{
    /// <summary>The settings (notify, retention) of <c>--config</c> / <c>$CONVERGE_CONFIG</c> / the default file; null (after printing why) on a bad file.</summary>
    public static ConvergeConfig? LoadConfig(string? configFile)
    {
        var diagnostics = new DiagnosticBag();
        var config = ConvergeConfigFile.Load(configFile, diagnostics);
        ManifestPipeline.Report(diagnostics.Sorted(), Console.Error);
        return config;
    }

    /// <summary>The commit of the last run on this host (the "old" of old → new), read before this run's report replaces it.</summary>
    public static string? PreviousRevision(NotifyConfig config, string stateDir, bool stateWritable)
        => config.IsEmpty || !stateWritable ? null : (string?)new ReportStore(stateDir).ReadLastRun()?["revision"];

    public static NotifyDispatcher.Pending Start(NotifyConfig config, RunContext context, string node, RunResult result,
        DateTimeOffset finished, string? previous, Serilog.ILogger log, string kind = "apply")
        => config.IsEmpty
            ? NotifyDispatcher.Pending.None
            : NotifyDispatcher.Start(config, RunNotice.FromRun(context, node, result, finished, previous) with { Kind = kind }, log);
}
