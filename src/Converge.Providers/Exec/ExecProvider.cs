using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Exec;

/// <summary>
/// The <c>exec</c> type: runs a command when its guards allow it — <c>creates</c> (skip when the path
/// exists), <c>onlyif</c> (run when it exits 0), <c>unless</c> (skip when it exits 0) — or, with
/// <c>refreshonly</c>, only when a notifying resource changed. Guards are read-only checks by contract
/// and run during Read with the command's cwd, environment, user and timeout.
/// </summary>
public sealed class ExecProvider : ResourceProvider<ExecSpec, ExecActual>
{
    /// <inheritdoc />
    public override string Type => "exec";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } =
        ["command", "creates", "onlyif", "unless", "refreshonly", "cwd", "environment", "user", "timeout", "returns"];

    /// <inheritdoc />
    /// <remarks>Without <c>command</c>, the title is the command, run by the shell.</remarks>
    public override ExecSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var command = reader.Command("command");
        var creates = reader.AbsolutePath("creates");
        var onlyIf = reader.Command("onlyif");
        var unless = reader.Command("unless");
        var refreshOnly = reader.Bool("refreshonly") ?? false;
        var cwd = reader.AbsolutePath("cwd");
        var environment = reader.StringMap("environment");
        var user = reader.Principal("user");
        var timeout = reader.Duration("timeout");
        var returns = reader.IntList("returns");
        if (returns is { Count: 0 })
            reader.Error(DiagnosticCodes.InvalidInteger, reader.SpanOf("returns"), "returns must list at least one exit code");
        if (command is null && !reader.Has("command") && resource.Title.Trim().Length == 0)
            reader.Error(DiagnosticCodes.InvalidCommand, resource.TitleSpan.IsNone ? resource.Span : resource.TitleSpan,
                "the title is the command when command is not set, and it is empty");
        if (reader.HasErrors) return null;
        return new ExecSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Command = command ?? CommandLine.FromShell(resource.Title),
            Creates = creates,
            OnlyIf = onlyIf,
            Unless = unless,
            RefreshOnly = refreshOnly,
            Cwd = cwd,
            Environment = environment ?? new Dictionary<string, string>(),
            User = user,
            Timeout = timeout ?? ExecSpec.DefaultTimeout,
            Returns = returns ?? [0],
        };
    }

    /// <inheritdoc />
    /// <remarks><c>user[…]</c> for a user given by name, and the working directory's <c>directory[…]</c>.</remarks>
    public override IEnumerable<AutoRequire> AutoRequires(ExecSpec spec)
    {
        if (spec.User is { IsName: true } user) yield return AutoRequire.Of(new ResourceId("user", user.Text));
        if (spec.Cwd is { } cwd) yield return AutoRequire.Of(new ResourceId("directory", cwd));
    }

    /// <inheritdoc />
    public override bool ReadDependsOnUpstream(ExecSpec spec) => spec.HasGuards;

    /// <inheritdoc />
    /// <remarks>
    /// Evaluates the guards in the order creates, onlyif, unless, stopping at the first that says "do not
    /// run". Guards may not change the host (contract with the manifest author). A guard that cannot start
    /// or times out throws <see cref="ProviderException"/>: whether to run is then unknown.
    /// </remarks>
    public override async ValueTask<ExecActual> ReadAsync(ExecSpec spec, ProviderContext context, CancellationToken ct)
    {
        if (!spec.HasGuards) return ExecActual.Unguarded;
        var system = context.System;
        if (spec.Creates is { } creates && system.Stat(creates) is not null)
            return new ExecActual(false, $"{creates} exists");
        if (spec.OnlyIf is { } onlyIf)
        {
            var result = await CheckAsync(spec, "onlyif", onlyIf, system, ct).ConfigureAwait(false);
            if (result.ExitCode != 0) return new ExecActual(false, $"onlyif exited {result.ExitCode}");
        }
        if (spec.Unless is { } unless)
        {
            var result = await CheckAsync(spec, "unless", unless, system, ct).ConfigureAwait(false);
            if (result.ExitCode == 0) return new ExecActual(false, "unless exited 0");
        }
        return new ExecActual(true, "guards allow running");
    }

    /// <inheritdoc />
    /// <remarks>Pure. One <c>command</c> change carrying the exact argv when the command should run and is not refreshonly.</remarks>
    public override IReadOnlyList<Change> Diff(ExecSpec spec, ExecActual actual) =>
        actual.ShouldRun && !spec.RefreshOnly ? [CommandChange(spec)] : [];

    /// <inheritdoc />
    /// <remarks>Runs the command; an exit code not in <c>returns</c>, or a timeout, throws <see cref="ProviderException"/>.</remarks>
    public override async ValueTask ApplyAsync(ExecSpec spec, ExecActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        foreach (var change in changes)
            if (change.Property != "command") throw ProviderException.UnexpectedChange(Type, change.Property);
        if (changes.Count > 0) await RunAsync(spec, context.System, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override bool IsRefreshable => true;

    /// <inheritdoc />
    /// <remarks>The same <c>command</c> change a run would make; the guards are checked again when the refresh happens.</remarks>
    public override IReadOnlyList<Change> PlanRefresh(ExecSpec spec) => [CommandChange(spec)];

    /// <inheritdoc />
    /// <remarks>Re-evaluates the guards (an upstream change may have satisfied them), then runs the command if they allow.</remarks>
    public override async ValueTask RefreshAsync(ExecSpec spec, ProviderContext context, CancellationToken ct)
    {
        var actual = await ReadAsync(spec, context, ct).ConfigureAwait(false);
        if (actual.ShouldRun) await RunAsync(spec, context.System, ct).ConfigureAwait(false);
    }

    /// <summary>The process the command (or a guard) runs as: argv plus the spec's cwd, environment, user and timeout.</summary>
    public static ProcessSpec ProcessFor(ExecSpec spec, CommandLine command) => new(command.Argv)
    {
        WorkingDirectory = spec.Cwd,
        Environment = spec.Environment.Count == 0 ? null : spec.Environment,
        User = spec.User?.Text,
        Timeout = spec.Timeout,
    };

    private static Change CommandChange(ExecSpec spec) =>
        new("command", null, spec.Command.Display, spec.Command.Argv);

    private static async Task RunAsync(ExecSpec spec, ISystem system, CancellationToken ct)
    {
        var display = spec.IsSensitive("command") ? Value.Redacted : spec.Command.Display;
        var result = await StartAsync(ProcessFor(spec, spec.Command), display, system, ct).ConfigureAwait(false);
        if (result.TimedOut) throw ProviderException.CommandTimedOut(display, spec.Timeout, result);
        if (!spec.Returns.Contains(result.ExitCode)) throw ProviderException.CommandFailed(display, result, spec.Returns);
    }

    private static async Task<ProcessResult> CheckAsync(ExecSpec spec, string property, CommandLine check, ISystem system, CancellationToken ct)
    {
        var display = spec.IsSensitive(property) ? Value.Redacted : check.Display;
        var result = await StartAsync(ProcessFor(spec, check), display, system, ct).ConfigureAwait(false);
        if (result.TimedOut) throw ProviderException.CheckTimedOut(property, display, spec.Timeout);
        return result;
    }

    private static async Task<ProcessResult> StartAsync(ProcessSpec process, string display, ISystem system, CancellationToken ct)
    {
        // Checked here, not at parse time: the user may be created earlier in the same run.
        if (process.User is { } user && system.Users.Account(user) is null) throw ProviderException.UnknownUser(user);
        try
        {
            return await system.RunAsync(process, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
            throw ProviderException.CommandNotStarted(display, e);
        }
    }
}
