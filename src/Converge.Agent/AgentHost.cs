using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Converge.Agent;

/// <summary>
/// Builds and runs the agent's host: Microsoft.Extensions.Hosting with the systemd lifetime when started
/// by systemd (READY=1 once started, STOPPING=1 on SIGTERM; journald reads the log's &lt;N&gt; priority
/// prefixes), the console lifetime otherwise, Serilog for every log line, SIGHUP as "run now".
/// Only <c>converge agent</c> loads this (and the Hosting assemblies): <c>converge apply</c> never pays for them.
/// </summary>
public static class AgentHost
{
    /// <summary>Runs the agent until stopped (or one cycle with --once); returns the process exit code.</summary>
    /// <param name="stop">
    /// Cancelled on SIGTERM/SIGINT by the command line's own handler (it takes those signals before the
    /// host's lifetime can): stops the host the same way.
    /// </param>
    public static async Task<int> RunAsync(AgentOptions options, Func<ILogger, IManifestRunner> createRunner, int verbosity, CancellationToken stop)
    {
        var underSystemd = SystemdHelpers.IsSystemdService();
        using var logger = CreateLogger(verbosity, underSystemd);
        var runner = createRunner(logger);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSerilog(logger, dispose: false);
        builder.Services.AddSystemd();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        // SIGTERM: the running resource finishes, the rest are skipped, the report is written; past this bound the process exits anyway.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        var schedule = new AgentSchedule(options.Interval, options.Splay, TimeProvider.System, Random.Shared);
        var exit = new AgentExit();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(runner);
        builder.Services.AddSingleton<ILogger>(logger);
        builder.Services.AddSingleton(schedule);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(exit);
        builder.Services.AddHostedService<AgentService>();

        using var host = builder.Build();
        // SIGHUP means "converge now" (systemctl reload / kill -HUP), never "exit": cancel the default action.
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            schedule.Trigger();
        });
        try
        {
            await host.RunAsync(stop);
        }
        catch (Exception e)
        {
            logger.Fatal(e, "The agent stopped unexpectedly");
            return Engine.ExitCodes.Failures;
        }
        return exit.Code;
    }

    /// <summary>
    /// Log lines to stderr. Under systemd, journald adds the time and unit, so a line is the syslog
    /// priority prefix and the message; in a terminal, a time and level are shown instead.
    /// </summary>
    public static Logger CreateLogger(int verbosity, bool underSystemd)
    {
        var level = verbosity switch { > 0 => LogEventLevel.Debug, < 0 => LogEventLevel.Error, _ => LogEventLevel.Information };
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            // The host's own chatter (lifetime, DI) is for debugging only.
            .MinimumLevel.Override("Microsoft", verbosity > 0 ? LogEventLevel.Debug : LogEventLevel.Warning)
            .Enrich.With<SyslogPriority>();
        return config.WriteTo.Console(
                outputTemplate: underSystemd
                    ? "{SyslogPriority:l}{Message:lj}{NewLine}{Exception}"
                    : "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
    }

    /// <summary>sd-daemon(3) priority prefixes: journald stores each line with its level.</summary>
    private sealed class SyslogPriority : ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, ILogEventPropertyFactory factory)
        {
            var prefix = logEvent.Level switch
            {
                LogEventLevel.Fatal => "<2>",
                LogEventLevel.Error => "<3>",
                LogEventLevel.Warning => "<4>",
                LogEventLevel.Information => "<6>",
                _ => "<7>",
            };
            logEvent.AddPropertyIfAbsent(factory.CreateProperty("SyslogPriority", prefix));
        }
    }
}
