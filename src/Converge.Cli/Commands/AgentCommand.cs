using System.CommandLine;
using Converge.Cli.Agent;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge agent</c> and its subcommands (status, disable, enable). Only System.CommandLine types
/// here: the actions hand off to <see cref="AgentLauncher"/>, so building the command line never loads
/// the agent's assemblies (start-up of every other command stays as it was).
/// </summary>
public static class AgentCommand
{
    public static Command Build(CommonOptions o)
    {
        var agent = new Command("agent",
            "Converge on a timer from a git repository: fetch, check out, compile, converge, report; keep the last good " +
            "revision when a commit is broken. SIGHUP runs now; SIGTERM stops after the running resource. See docs/agent.md.");
        var config = Text("--config", "FILE", "Read settings from this YAML file (flags override it)");
        var source = Text("--source", "URL|PATH", "The manifest repository: any git URL, or a local path");
        var branch = Text("--branch", "NAME", "Branch to follow (default main)");
        var revision = Text("--revision", "REV", "Converge this commit or tag instead of the branch head");
        var path = Text("--path", "DIR", "The manifests inside the repository: a directory with site.yaml, or a file (default: the root)");
        var interval = Text("--interval", "DURATION", "Time between runs, e.g. 30m (default 30m)");
        var splay = Text("--splay", "DURATION", "Random offset of up to ± this much on each interval, so a fleet spreads out (default 0)");
        var once = new Option<bool>("--once") { Description = "Run one cycle, then exit with the run's exit code" };
        var noop = new Option<bool>("--noop", "-n") { Description = "Audit mode: report drift, change nothing" };
        var runTimeout = Text("--run-timeout", "DURATION", "Interrupt a run that takes longer (default 1h); one that still hangs ends the agent");
        var lockTimeout = Text("--lock-timeout", "DURATION", "Wait this long for another run's lock before failing the cycle (default 10m)");
        var shutdownTimeout = Text("--shutdown-timeout", "DURATION", "On SIGTERM, wait this long for the running resource and the report (default 60s)");
        var fetchTimeout = Text("--fetch-timeout", "DURATION", "Give up on a git fetch after this long and use the cached revision (default 5m)");
        var verify = new Option<bool>("--verify-signatures") { Description = "Refuse commits not signed by a key in the keyring (git verify-commit)" };
        var keyring = Text("--keyring", "DIR|FILE", "Trusted keys for --verify-signatures: a GnuPG home, or an SSH allowed-signers file");
        var metricsDir = Text("--metrics-dir", "DIR", "Write Prometheus metrics to DIR/converge.prom (node exporter textfile collector)");
        var keepReports = new Option<int?>("--keep-reports") { Description = "Keep at most this many reports (default 200)", HelpName = "N" };
        var keepDays = new Option<int?>("--keep-days") { Description = "Delete reports older than this many days (default 30)", HelpName = "DAYS" };
        foreach (var opt in new Option[] { config, source, branch, revision, path, interval, splay, once, noop, runTimeout, lockTimeout,
                     shutdownTimeout, fetchTimeout, verify, keyring, metricsDir, keepReports, keepDays })
            agent.Options.Add(opt);
        agent.SetAction((parse, ct) => AgentLauncher.RunAsync(o.Read(parse), new AgentFlags(
            parse.GetValue(config), parse.GetValue(source), parse.GetValue(branch), parse.GetValue(revision), parse.GetValue(path),
            parse.GetValue(interval), parse.GetValue(splay), parse.GetValue(once), parse.GetValue(noop), parse.GetValue(runTimeout),
            parse.GetValue(lockTimeout), parse.GetValue(shutdownTimeout), parse.GetValue(fetchTimeout), parse.GetValue(verify),
            parse.GetValue(keyring), parse.GetValue(metricsDir), parse.GetValue(keepReports), parse.GetValue(keepDays),
            parse.GetValue(o.StateDir), parse.GetValue(o.Node), parse.GetValue(o.FactsDir)), ct));

        var status = new Command("status", "Show whether the agent runs, whether it is disabled (and why), the last run and the last good revision.");
        var json = new Option<bool>("--json") { Description = "Print the status as JSON" };
        status.Options.Add(json);
        status.SetAction(parse => AgentLauncher.Status(o.Read(parse), parse.GetValue(json)));
        agent.Subcommands.Add(status);

        var disable = new Command("disable", "Make the agent skip its runs until enabled (a run in progress finishes).");
        var reason = new Option<string>("--reason") { Description = "Why (shown in the log, last_run.json and 'converge agent status')", HelpName = "TEXT", Required = true };
        disable.Options.Add(reason);
        disable.SetAction(parse => AgentLauncher.Disable(o.Read(parse), parse.GetValue(reason)!));
        agent.Subcommands.Add(disable);

        var enable = new Command("enable", "Let a disabled agent run again.");
        enable.SetAction(parse => AgentLauncher.Enable(o.Read(parse)));
        agent.Subcommands.Add(enable);
        return agent;
    }

    private static Option<string?> Text(string name, string helpName, string description)
        => new(name) { Description = description, HelpName = helpName };
}
