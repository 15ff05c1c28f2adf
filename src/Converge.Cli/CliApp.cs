using System.CommandLine;
using System.CommandLine.Invocation;
using Converge.Cli.Commands;
using Converge.Engine;

namespace Converge.Cli;

/// <summary>
/// The command line: parse, then hand off to one command class. Commands stay thin: they call the
/// pipeline and render; the engine knows nothing of the CLI.
/// </summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine($"converge: {e.Message}");
            Console.Error.WriteLine("Try 'converge --help'.");
            return ExitCodes.Usage;
        }
        // Ctrl-C / SIGTERM cancel the run's token: no new resource starts, the running one finishes (an
        // exec's own timeout bounds it), the report is written. Handled here, from before the command starts,
        // rather than by System.CommandLine (ProcessTerminationTimeout off): see Interrupts. Only commands that
        // take the token (async actions) can stop cleanly; the others change nothing and keep the default action.
        // `converge ssh` runs nothing locally: a second signal leaves the hosts to stop by themselves (docs/ssh.md).
        var again = parsed.CommandResult.Command.Name == "ssh"
            ? "stopping now, without the table; running hosts still finish their current resource and keep their report"
            : null;
        using var interrupts = parsed.Action is AsynchronousCommandLineAction ? new Interrupts(Console.Error, again) : null;
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null },
            interrupts?.Token ?? CancellationToken.None);
    }

    public static RootCommand Build()
    {
        var o = new CommonOptions();
        var root = new RootCommand(
            "Converge: declarative, convergent configuration for Linux hosts.\n" +
            "Run 'converge --noop' in a manifest repo to preview every change, 'converge apply' to make it so.");
        foreach (var opt in o.Global) root.Options.Add(opt);

        // `converge --noop [PATH]` is `converge apply --noop [PATH]`; a bare `converge` explains itself.
        var rootPath = CommonOptions.PathArgument();
        rootPath.Hidden = true; // documented under `apply`; keeps the usage line readable
        root.Arguments.Add(rootPath);
        foreach (var opt in o.ApplyOnly) root.Options.Add(opt);
        root.SetAction(async (parse, ct) =>
        {
            if (!parse.GetValue(o.Noop))
            {
                Console.Error.WriteLine("converge: say what to do: 'converge --noop' to preview, 'converge apply' to converge, 'converge --help' for more.");
                return ExitCodes.Usage;
            }
            return await new ApplyCommand(o.Read(parse), parse.GetValue(rootPath)!, o.ReadApply(parse)).RunAsync(ct);
        });

        var apply = new Command("apply", "Converge this host to the manifests at PATH (default: the current directory).");
        var applyPath = CommonOptions.PathArgument();
        apply.Arguments.Add(applyPath);
        foreach (var opt in o.ApplyOnly) apply.Options.Add(opt);
        apply.SetAction((parse, ct) => new ApplyCommand(o.Read(parse), parse.GetValue(applyPath)!, o.ReadApply(parse)).RunAsync(ct));
        root.Subcommands.Add(apply);

        var validate = new Command("validate", "Load, compile and check the manifests; print every error with file:line:col. Touches nothing.");
        var validatePath = CommonOptions.PathArgument();
        validate.Arguments.Add(validatePath);
        validate.SetAction(parse => new ValidateCommand(o.Read(parse), parse.GetValue(validatePath)!).Run());
        root.Subcommands.Add(validate);

        var facts = new Command("facts", "Print this host's facts as JSON.");
        facts.SetAction(parse => FactsCommand.Run(o.Read(parse)));
        root.Subcommands.Add(facts);

        var graph = new Command("graph", "Print the resource graph (DOT by default: 'converge graph | dot -Tsvg > graph.svg').");
        var graphPath = CommonOptions.PathArgument();
        var format = new Option<string>("--format") { Description = "dot, mermaid or json", DefaultValueFactory = _ => "dot" };
        format.AcceptOnlyFromAmong("dot", "mermaid", "json");
        graph.Arguments.Add(graphPath);
        graph.Options.Add(format);
        graph.SetAction(parse => new GraphCommand(o.Read(parse), parse.GetValue(graphPath)!).Run(parse.GetValue(format)!));
        root.Subcommands.Add(graph);

        var catalog = new Command("catalog", "Print the compiled catalog (the desired state) as JSON; secrets show as (redacted).");
        var catalogPath = CommonOptions.PathArgument();
        catalog.Arguments.Add(catalogPath);
        catalog.SetAction(parse => new CatalogCommand(o.Read(parse), parse.GetValue(catalogPath)!).Run());
        root.Subcommands.Add(catalog);

        foreach (var command in HistoryCommands.Build(o)) root.Subcommands.Add(command);
        root.Subcommands.Add(AgentCommand.Build(o));
        root.Subcommands.Add(new SshCommand().Build(o));
        root.Subcommands.Add(PlanCommand.Build(o));

        return root;
    }
}
