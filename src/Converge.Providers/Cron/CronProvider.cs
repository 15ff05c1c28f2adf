using System.Text;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Cron;

/// <summary>
/// The <c>cron</c> type: one job in a user's crontab, read with <c>crontab -l -u USER</c> and written
/// whole with <c>crontab -u USER -</c>, or in its own file <c>/etc/cron.d/NAME</c> (0644, root, written
/// atomically). The job is found by its marker comment, so hand-made lines are never touched.
/// </summary>
public sealed class CronProvider : ResourceProvider<CronSpec, CronActual>
{
    private static readonly IReadOnlyList<KeyValuePair<string, CronEnsure>> EnsureChoices =
    [
        new("present", CronEnsure.Present),
        new("absent", CronEnsure.Absent),
    ];

    private static readonly IReadOnlyList<KeyValuePair<string, CronTarget>> TargetChoices =
    [
        new("crontab", CronTarget.Crontab),
        new("crond", CronTarget.Crond),
    ];

    /// <summary>The mode and owner of a cron.d file: cron ignores files that others can write.</summary>
    public static readonly Machine.FileAttributes CrondAttributes = new(new UnixMode(0b110_100_100), 0, 0);

    /// <inheritdoc />
    public override string Type => "cron";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } =
        ["ensure", "target", "user", "schedule", "minute", "hour", "monthday", "month", "weekday", "command", "environment"];

    /// <inheritdoc />
    /// <remarks>The schedule is checked here field by field, each error at its field's column (CVG4120).</remarks>
    public override CronSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var ensure = reader.Choice("ensure", EnsureChoices) ?? CronEnsure.Present;
        var target = reader.Choice("target", TargetChoices) ?? CronTarget.Crontab;
        var title = resource.Title;
        var titleSpan = resource.TitleSpan.IsNone ? resource.Span : resource.TitleSpan;
        if (title.AsSpan().IndexOfAny('\n', '\r') >= 0 || title.Contains(']'))
            reader.Error(DiagnosticCodes.InvalidCronName, titleSpan,
                "the title of a cron resource must be one line without ']': it becomes the marker comment '# converge: cron[TITLE]'");
        else if (target == CronTarget.Crond && !IsCrondName(title))
            reader.Error(DiagnosticCodes.InvalidCronName, titleSpan,
                $"with target: crond the title is the file name in /etc/cron.d and may hold only letters, digits, '-' and '_' (cron skips other names); got {title}");

        var user = reader.Principal("user");
        if (user is { IsName: false })
            reader.Error(DiagnosticCodes.InvalidPrincipal, reader.SpanOf("user"), $"user must be a user name, not a numeric id; got {user.Text}");

        var schedule = Schedule(reader);
        var command = reader.String("command");
        if (command is not null && command.AsSpan().IndexOfAny('\n', '\r') >= 0)
            reader.Error(DiagnosticCodes.InvalidCronLine, reader.SpanOf("command"), "command must be a single line: a crontab entry ends at the line break");
        else if (command is not null && command.Trim().Length == 0)
            reader.Error(DiagnosticCodes.InvalidCommand, reader.SpanOf("command"), "command must not be empty");
        var environment = Environment(reader);

        if (ensure == CronEnsure.Present)
        {
            if (!reader.Has("schedule") && !CronSchedule.FieldNames.Any(reader.Has))
                reader.Error(DiagnosticCodes.MissingProperty, resource.Span,
                    "missing required property 'schedule' (or minute, hour, monthday, month, weekday) when ensure is present");
            reader.Require("command", "when ensure is present");
        }
        else
        {
            reader.Ineffective("ensure is absent", ["schedule", .. CronSchedule.FieldNames, "command", "environment"]);
        }
        if (reader.HasErrors) return null;

        return new CronSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Name = title,
            Ensure = ensure,
            Target = target,
            User = user?.Text ?? "root",
            Schedule = schedule,
            Command = command,
            Environment = environment,
        };
    }

    /// <inheritdoc />
    /// <remarks><c>user[USER]</c>; for cron.d also the nearest managed ancestor directory of the file.</remarks>
    public override IEnumerable<AutoRequire> AutoRequires(CronSpec spec)
    {
        yield return AutoRequire.Of(new ResourceId("user", spec.User));
        if (spec.Target == CronTarget.Crond)
            foreach (var r in PathAutoRequires.AncestorDirectory(spec.CrondPath)) yield return r;
    }

    /// <inheritdoc />
    /// <remarks>
    /// True for crontabs: <c>crontab -l -u</c> fails for a user a pending <c>user</c> resource creates,
    /// and the jobs of one crontab are chained (see <see cref="ExclusiveKey"/>), so each sees the one before.
    /// </remarks>
    public override bool ReadDependsOnUpstream(CronSpec spec) => spec.Target == CronTarget.Crontab;

    /// <inheritdoc />
    /// <remarks>Jobs of one crontab are read and written one after another: each rewrites the whole crontab.</remarks>
    public override string? ExclusiveKey(CronSpec spec) =>
        spec.Target == CronTarget.Crontab ? "crontab:" + spec.User : "path:" + spec.CrondPath;

    /// <summary>The argv that reads a user's crontab.</summary>
    public static IReadOnlyList<string> ListArgv(string user) => ["crontab", "-l", "-u", user];

    /// <summary>The argv that replaces a user's crontab with standard input.</summary>
    public static IReadOnlyList<string> InstallArgv(string user) => ["crontab", "-u", user, "-"];

    /// <inheritdoc />
    /// <remarks>
    /// Crontab: runs <c>crontab -l -u USER</c>; "no crontab for USER" reads as empty. Cron.d: reads the
    /// file (lstat first; a symlink or directory there is read as what it is, and Diff refuses it).
    /// Throws <see cref="ProviderException"/> when crontab fails otherwise (an unknown user).
    /// </remarks>
    public override async ValueTask<CronActual> ReadAsync(CronSpec spec, ProviderContext context, CancellationToken ct)
    {
        var system = context.System;
        if (spec.Target == CronTarget.Crond)
        {
            var status = system.Stat(spec.CrondPath);
            var content = status?.Kind == FileKind.File ? Encoding.UTF8.GetString(system.ReadAllBytes(spec.CrondPath)) : null;
            return new CronActual { Status = status, Content = content };
        }
        // crontab's own error for an unknown user is terse; ours names the fix. Absent: nothing to remove.
        if (system.Users.Account(spec.User) is null)
            return spec.Ensure == CronEnsure.Absent ? new CronActual() : throw ProviderException.UnknownUser(spec.User);
        return new CronActual { Content = await ListAsync(system, spec.User, ct).ConfigureAwait(false) };
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Empty when the block is as wanted (or absent and already gone). Otherwise one change:
    /// <c>ensure</c> when the job is added or removed, <c>job</c> when its line differs, <c>environment</c>
    /// when only the NAME=value lines above it differ, with the unified
    /// diff of the whole crontab (or file) and, for crontabs, the argv that installs it. For cron.d a
    /// wrong mode or owner on an otherwise right file is a <c>mode</c>/<c>owner</c> change.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(CronSpec spec, CronActual actual)
    {
        if (spec.Target == CronTarget.Crond) return DiffCrond(spec, actual);

        var current = CronText.Current(actual.Content, spec.Marker);
        var wanted = spec.Ensure == CronEnsure.Present ? spec.Block() : null;
        if (current is null && wanted is null) return [];
        if (current is not null && wanted is not null && current.SequenceEqual(wanted)) return [];

        var newContent = CronText.Edit(actual.Content, spec.Marker, wanted);
        var diff = UnifiedDiff.Render(actual.Content ?? "", newContent, $"crontab -u {spec.User} (current)", $"crontab -u {spec.User} (new)");
        return [Describe(spec, current, wanted, InstallArgv(spec.User), diff)];
    }

    /// <inheritdoc />
    /// <remarks>
    /// Crontab: reads the crontab again and refuses (changing nothing) when it changed since Read, then
    /// pipes the edited crontab to <c>crontab -u USER -</c>. Cron.d: writes the file atomically with 0644
    /// root:root, or removes it. Throws <see cref="ProviderException"/> when a command fails.
    /// </remarks>
    public override async ValueTask ApplyAsync(CronSpec spec, CronActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        if (changes.Count == 0) return;
        foreach (var change in changes)
            if (change.Property is not ("ensure" or "job" or "environment" or "mode" or "owner")) throw ProviderException.UnexpectedChange(Type, change.Property);
        var system = context.System;
        var wanted = spec.Ensure == CronEnsure.Present ? spec.Block() : null;

        if (spec.Target == CronTarget.Crond)
        {
            var now = system.Stat(spec.CrondPath);
            if (now is not null && now.Kind != FileKind.File) throw ProviderException.CronFileNotAFile(spec.CrondPath, now.Kind);
            if (wanted is null)
            {
                if (now is not null) system.DeleteFile(spec.CrondPath);
                return;
            }
            system.WriteFileAtomic(spec.CrondPath, Encoding.UTF8.GetBytes(CrondContent(spec)), CrondAttributes);
            return;
        }

        var content = await ListAsync(system, spec.User, ct).ConfigureAwait(false);
        if (content != actual.Content) throw ProviderException.CrontabChangedSinceRead(spec.User);
        var argv = InstallArgv(spec.User);
        var result = await system.RunAsync(new ProcessSpec(argv)
        {
            StandardInput = CronText.Edit(content, spec.Marker, wanted),
            Timeout = CommandTimeout,
        }, ct).ConfigureAwait(false);
        if (result.ExitCode != 0 || result.TimedOut) throw ProviderException.CrontabFailed(argv, result);
    }

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private static async Task<string?> ListAsync(ISystem system, string user, CancellationToken ct)
    {
        var argv = ListArgv(user);
        var result = await system.RunAsync(new ProcessSpec(argv) { Timeout = CommandTimeout }, ct).ConfigureAwait(false);
        if (result.ExitCode == 0 && !result.TimedOut) return result.StandardOutput;
        // crontab says "no crontab for USER" and exits 1 when the user has none: that is an empty crontab.
        if (result.ExitCode == 1 && result.StandardError.Contains("no crontab for", StringComparison.Ordinal)) return null;
        throw ProviderException.CrontabFailed(argv, result);
    }

    private static IReadOnlyList<Change> DiffCrond(CronSpec spec, CronActual actual)
    {
        if (actual.Status is { Kind: not FileKind.File } status) throw ProviderException.CronFileNotAFile(spec.CrondPath, status.Kind);
        var current = actual.Content is null ? null : CronText.Current(actual.Content, spec.Marker) ?? [];
        if (spec.Ensure == CronEnsure.Absent)
        {
            if (actual.Content is null) return [];
            return [new Change("ensure", "present", "absent", UnifiedDiff: UnifiedDiff.Render(actual.Content, "", spec.CrondPath, "/dev/null"))];
        }

        var content = CrondContent(spec);
        var changes = new List<Change>();
        if (actual.Content != content)
        {
            var diff = UnifiedDiff.Render(actual.Content ?? "", content, actual.Content is null ? "/dev/null" : spec.CrondPath, spec.CrondPath);
            changes.Add(Describe(spec, actual.Content is null ? null : current, spec.Block(), null, diff));
        }
        if (actual.Status is { } s && changes.Count == 0)
        {
            if (s.Mode != CrondAttributes.Mode) changes.Add(new Change("mode", s.Mode.ToOctal(), CrondAttributes.Mode!.Value.ToOctal()));
            if (s.Uid != 0 || s.Gid != 0) changes.Add(new Change("owner", $"{s.Uid}:{s.Gid}", "0:0"));
        }
        return changes;
    }

    /// <summary>The whole cron.d file: the block and nothing else.</summary>
    public static string CrondContent(CronSpec spec) => CronText.Edit(null, spec.Marker, spec.Block());

    private static Change Describe(CronSpec spec, IReadOnlyList<string>? current, IReadOnlyList<string>? wanted, IReadOnlyList<string>? argv, string? diff)
    {
        // A secret in the command or environment would show in the diff and the job lines.
        var secret = spec.IsSensitive("command") || spec.IsSensitive("environment");
        if (secret) diff = null;
        if (current is null) return new Change("ensure", "absent", "present", argv, diff);
        if (wanted is null) return new Change("ensure", "present", "absent", argv, diff);
        if (secret) return new Change("job", Value.Redacted, Value.Redacted, argv);
        // Only the environment lines differ: a job change would read "0 1 * * * x → 0 1 * * * x".
        if (current.Count > 0 && current[^1] == wanted[^1])
            return new Change("environment", EnvironmentText(current), EnvironmentText(wanted), argv, diff);
        // Empty: a cron.d file of that name without our marker (made by hand) is replaced whole.
        return new Change("job", current.Count > 0 ? current[^1] : "(none)", wanted[^1], argv, diff);
    }

    /// <summary>The NAME=value lines of a block (between the marker and the job), space-separated; "(none)" when there are none.</summary>
    private static string EnvironmentText(IReadOnlyList<string> block) =>
        block.Count <= 2 ? "(none)" : string.Join(' ', block.Skip(1).Take(block.Count - 2));

    private static bool IsCrondName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static string? Schedule(SpecReader reader)
    {
        foreach (var field in CronSchedule.FieldNames) reader.Conflict("schedule", field);
        if (reader.Has("schedule"))
        {
            var text = reader.String("schedule");
            if (text is null) return null;
            var span = reader.SpanOf("schedule");
            var value = reader.Resource.Properties["schedule"] as ScalarValue;
            var trimmed = text.Trim();
            if (trimmed.StartsWith('@'))
            {
                if (CronSchedule.Macros.Contains(trimmed)) return trimmed;
                reader.Error(DiagnosticCodes.InvalidCronSchedule, span,
                    $"schedule must be five fields or one of {string.Join(", ", CronSchedule.Macros)}; got {trimmed}{Suggest.DidYouMean(trimmed, CronSchedule.Macros)}");
                return null;
            }
            var fields = CronSchedule.Split(text);
            if (fields.Count != 5)
            {
                reader.Error(DiagnosticCodes.InvalidCronSchedule, span,
                    $"schedule must have 5 fields (minute hour monthday month weekday) or be a macro such as @daily; got {fields.Count} in '{text}'");
                return null;
            }
            var ok = true;
            for (var i = 0; i < 5; i++)
            {
                if (CronSchedule.CheckField(i, fields[i].Text) is not { } reason) continue;
                reader.Error(DiagnosticCodes.InvalidCronSchedule, FieldSpan(span, value, fields[i].Offset, fields[i].Text.Length), reason);
                ok = false;
            }
            return ok ? string.Join(' ', fields.Select(f => f.Text)) : null;
        }
        if (!CronSchedule.FieldNames.Any(reader.Has)) return null;
        var parts = new string[5];
        var valid = true;
        for (var i = 0; i < 5; i++)
        {
            var name = CronSchedule.FieldNames[i];
            var text = reader.String(name)?.Trim() ?? "*";
            parts[i] = text;
            if (CronSchedule.CheckField(i, text) is { } reason)
            {
                reader.Error(DiagnosticCodes.InvalidCronSchedule, reader.SpanOf(name), reason);
                valid = false;
            }
            else if (text.Any(char.IsWhiteSpace))
            {
                reader.Error(DiagnosticCodes.InvalidCronSchedule, reader.SpanOf(name), $"{name} must be one field without spaces; got '{text}'");
                valid = false;
            }
        }
        return valid ? string.Join(' ', parts) : null;
    }

    // Points at one field of a one-line schedule value; the whole value when it spans lines or has escapes.
    private static SourceSpan FieldSpan(SourceSpan span, ScalarValue? value, int offset, int length)
    {
        if (value is null || span.Line != span.EndLine) return span;
        var quote = value.Quoted ? 1 : 0;
        if (span.EndColumn - span.Column != value.Text.Length + 2 * quote) return span;
        var column = span.Column + quote + offset;
        return span with { Column = column, EndLine = span.Line, EndColumn = column + length };
    }

    private static IReadOnlyList<KeyValuePair<string, string>> Environment(SpecReader reader)
    {
        var map = reader.StringMap("environment");
        if (map is null) return [];
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in map)
        {
            if (!CronText.IsName(name))
                reader.Error(DiagnosticCodes.InvalidCronLine, reader.SpanOf("environment"),
                    $"environment name '{name}' must be letters, digits and '_', not starting with a digit");
            else if (value.AsSpan().IndexOfAny('\n', '\r') >= 0)
                reader.Error(DiagnosticCodes.InvalidCronLine, reader.SpanOf("environment"),
                    $"environment.{name} must be a single line: a crontab entry ends at the line break");
            else result.Add(new(name, value));
        }
        return result;
    }
}
