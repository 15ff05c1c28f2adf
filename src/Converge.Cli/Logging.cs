using Serilog;
using Serilog.Events;

namespace Converge.Cli;

/// <summary>
/// Serilog to stderr (stdout belongs to the command's output: plans, JSON). Default: warnings and
/// errors; -v adds debug detail (timings of each step); -q keeps only errors.
/// </summary>
public static class Logging
{
    public static ILogger Create(Settings settings)
    {
        var level = settings.Verbosity switch { > 0 => LogEventLevel.Debug, < 0 => LogEventLevel.Error, _ => LogEventLevel.Warning };
        return new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
    }
}
