using System.CommandLine;

namespace Converge.Cli.Commands;

/// <summary>The command-line shape of <c>history</c>, <c>report show</c>, <c>bucket</c> and <c>undo</c> (one place, so CliApp stays a list).</summary>
public static class HistoryCommands
{
    public static IEnumerable<Command> Build(CommonOptions o)
    {
        var history = new Command("history", "List recent runs on this host: run id, start, who, revision, kind, changed, failed, duration.");
        var count = new Option<int>("-n", "--count") { Description = "How many runs to list, newest first", HelpName = "N", DefaultValueFactory = _ => 20 };
        var historyJson = new Option<bool>("--json") { Description = "Print the list as JSON" };
        history.Options.Add(count);
        history.Options.Add(historyJson);
        history.SetAction(parse => new HistoryCommand(o.Read(parse)).Run(parse.GetValue(count), parse.GetValue(historyJson)));
        yield return history;

        var report = new Command("report", "Read stored run reports.");
        var show = new Command("show", "Print one run in full, as apply printed it: each change with its diff (secrets were redacted when the report was written).");
        var showRun = RunArgument("The run: 'last' (the newest report) or a run id from 'converge history' (a unique prefix will do)");
        var showJson = new Option<bool>("--json") { Description = "Print the stored JSON report as it is" };
        show.Arguments.Add(showRun);
        show.Options.Add(showJson);
        show.SetAction(parse => new ReportCommand(o.Read(parse)).Show(parse.GetValue(showRun)!, parse.GetValue(showJson)));
        report.Subcommands.Add(show);
        yield return report;

        var bucket = new Command("bucket", "The backups of replaced and removed file contents (STATE/bucket).");
        var list = new Command("list", "Without PATH: every path with backups. With PATH: its backed-up versions (hash, size, time, run), newest first. Sensitive contents show only their hash.");
        var listPath = new Argument<string?>("PATH") { Description = "An absolute file path", Arity = ArgumentArity.ZeroOrOne };
        var listJson = new Option<bool>("--json") { Description = "Print the list as JSON" };
        list.Arguments.Add(listPath);
        list.Options.Add(listJson);
        list.SetAction(parse => new BucketCommand(o.Read(parse)).List(parse.GetValue(listPath), parse.GetValue(listJson)));
        bucket.Subcommands.Add(list);

        var bshow = new Command("show", "Print a stored content. Refused for sensitive content (and for content the index does not know).");
        var showHash = new Argument<string>("HASH") { Description = "The content's sha256, as 'bucket list' prints it" };
        bshow.Arguments.Add(showHash);
        bshow.SetAction(parse => new BucketCommand(o.Read(parse)).Show(parse.GetValue(showHash)!));
        bucket.Subcommands.Add(bshow);

        var restore = new Command("restore", "Write a stored content to PATH (atomically, backing up what it replaces) as a run with its own report, so it can be undone.");
        var restoreHash = new Argument<string>("HASH") { Description = "The content's sha256, as 'bucket list' prints it" };
        var restorePath = new Argument<string>("PATH") { Description = "The absolute path to write (need not be where the content came from)" };
        var restoreNoop = new Option<bool>("--noop", "-n") { Description = "Show the change (with its diff) and change nothing" };
        var restoreJson = new Option<bool>("--json") { Description = "Print the run's JSON report instead of the human view" };
        restore.Arguments.Add(restoreHash);
        restore.Arguments.Add(restorePath);
        restore.Options.Add(restoreNoop);
        restore.Options.Add(restoreJson);
        var restoreLock = LockTimeout();
        restore.Options.Add(restoreLock);
        restore.SetAction((parse, ct) => new BucketCommand(o.Read(parse)) { LockTimeout = TimeSpan.FromSeconds(parse.GetValue(restoreLock)) }
            .RestoreAsync(parse.GetValue(restoreHash)!, parse.GetValue(restorePath)!, parse.GetValue(restoreNoop), parse.GetValue(restoreJson), ct));
        bucket.Subcommands.Add(restore);
        yield return bucket;

        var undo = new Command("undo", "Revert a run's file, directory and link changes (content, mode, owner, group, link target) as a new run; list what cannot be reverted.");
        var undoRun = RunArgument("The run: 'last' (the newest run that was not --noop) or a run id from 'converge history'");
        var undoNoop = new Option<bool>("--noop", "-n") { Description = "Show what reverting would change (with diffs); change nothing" };
        var undoJson = new Option<bool>("--json") { Description = "Print the undo run's JSON report instead of the human view" };
        undo.Arguments.Add(undoRun);
        undo.Options.Add(undoNoop);
        undo.Options.Add(undoJson);
        var undoLock = LockTimeout();
        undo.Options.Add(undoLock);
        undo.SetAction((parse, ct) => new UndoCommand(o.Read(parse)) { LockTimeout = TimeSpan.FromSeconds(parse.GetValue(undoLock)) }.RunAsync(parse.GetValue(undoRun)!, parse.GetValue(undoNoop), parse.GetValue(undoJson), ct));
        yield return undo;
    }

    private static Option<double> LockTimeout() => new("--lock-timeout")
    {
        Description = "Seconds to wait for another run to finish before giving up",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 60,
    };

    private static Argument<string> RunArgument(string description) => new("RUN") { Description = description };
}
