using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Line;

/// <summary>
/// The <c>line</c> type: one line present in, or absent from, a text file that something else owns
/// (Puppet's file_line, Ansible's lineinfile). The title is a name. The whole file is rewritten
/// atomically with its mode and owner kept, its line endings and final newline preserved, and the old
/// content backed up to the bucket; the plan shows the edit as a unified diff of the whole file.
/// </summary>
public sealed class LineProvider : ResourceProvider<LineSpec, LineActual>
{
    private static readonly IReadOnlyList<KeyValuePair<string, LineEnsure>> EnsureChoices =
    [
        new("present", LineEnsure.Present),
        new("absent", LineEnsure.Absent),
    ];

    /// <inheritdoc />
    public override string Type => "line";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } =
        ["path", "text", "ensure", "match", "insert_after", "insert_before", "multiple", "create", "backup"];

    /// <inheritdoc />
    /// <remarks>Patterns are compiled here, so a bad one is a load-time error at its value (CVG4014).</remarks>
    public override LineSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        reader.Require("path");
        var path = reader.AbsolutePath("path");
        var ensure = reader.Choice("ensure", EnsureChoices) ?? LineEnsure.Present;
        var text = reader.String("text");
        if (text is not null && text.AsSpan().IndexOfAny('\n', '\r') >= 0)
            reader.Error(DiagnosticCodes.LineBreakInLine, reader.SpanOf("text"),
                "text must be a single line without line breaks; use one line resource per line, or a file resource for a block");
        var match = Pattern(reader, "match");
        var after = Pattern(reader, "insert_after");
        var before = Pattern(reader, "insert_before");
        reader.Conflict("insert_after", "insert_before");
        var multiple = reader.Bool("multiple") ?? false;
        var create = reader.Bool("create") ?? false;
        var backup = reader.Bool("backup") ?? true;

        if (ensure == LineEnsure.Present)
        {
            reader.Require("text", "when ensure is present");
            if (!reader.Has("match")) reader.Ineffective("match is not set", "multiple");
        }
        else
        {
            if (!reader.Has("text") && !reader.Has("match"))
                reader.Error(DiagnosticCodes.MissingProperty, resource.Span,
                    "missing required property 'text' or 'match' when ensure is absent");
            // Absent removes every match, so multiple changes nothing; with match, text is not consulted.
            reader.Ineffective("ensure is absent", "insert_after", "insert_before", "multiple", "create");
            if (reader.Has("match")) reader.Ineffective("ensure is absent and match is set", "text");
        }
        if (reader.HasErrors || path is null) return null;

        return new LineSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Path = path,
            Ensure = ensure,
            Text = text,
            Match = match,
            After = after,
            Before = before,
            Multiple = multiple,
            Create = create,
            Backup = backup,
        };
    }

    /// <inheritdoc />
    /// <remarks>
    /// <c>file[PATH]</c> when the catalog manages the whole file (its content first, then this edit), and
    /// the nearest managed ancestor directory.
    /// </remarks>
    public override IEnumerable<AutoRequire> AutoRequires(LineSpec spec) =>
        PathAutoRequires.AncestorDirectory(spec.Path).Prepend(AutoRequire.Of(new ResourceId("file", spec.Path)));

    /// <inheritdoc />
    /// <remarks>
    /// Always true: what a line edit finds depends on whoever changes the file first (a <c>file</c> with
    /// its content, a package installing it, another line of the same file), so in <c>--noop</c> a line
    /// downstream of a pending change is reported as unknown rather than with a diff that would be wrong.
    /// </remarks>
    public override bool ReadDependsOnUpstream(LineSpec spec) => true;

    /// <inheritdoc />
    /// <remarks>Edits of one file run one after another, so each reads what the previous one wrote.</remarks>
    public override string? ExclusiveKey(LineSpec spec) => "path:" + spec.Path;

    /// <inheritdoc />
    /// <remarks>Reads the file's bytes when a regular file is at the path; never follows a symlink.</remarks>
    public override ValueTask<LineActual> ReadAsync(LineSpec spec, ProviderContext context, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var status = context.System.Stat(spec.Path);
        return ValueTask.FromResult(new LineActual
        {
            Status = status,
            Content = status?.Kind == FileKind.File ? context.System.ReadAllBytes(spec.Path) : null,
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Empty when the file is as wanted (or, for absent, when there is no file). Otherwise one
    /// <c>text</c> change whose <see cref="Change.UnifiedDiff"/> is the diff of the whole file and whose
    /// <see cref="Change.Backup"/> is the hash the old content will be stored under. Throws
    /// <see cref="ProviderException"/> when the edit cannot be made: no file and no <c>create</c>, not a
    /// regular file, not text, or several lines matching without <c>multiple</c>; so <c>--noop</c> fails
    /// the resource exactly as apply would.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(LineSpec spec, LineActual actual)
    {
        var plan = Plan(spec, actual);
        if (plan is null) return [];
        var (from, to, bytes) = plan.Value;
        var backup = spec.Backup && actual.Content is { } old ? ContentText.Sha256(old) : null;
        // The engine redacts a sensitive "text"; a secret match or anchor could also show up in the
        // diff (the replaced line is often the secret's old value), so redact here for those too.
        if (spec.HasSensitiveText)
            return [new Change("text", from is null ? null : Value.Redacted, Value.Redacted) { Backup = backup }];
        return [new Change("text", from, to, UnifiedDiff: ContentText.UnifiedDiff(spec.Path, actual.Content, bytes)) { Backup = backup }];
    }

    /// <inheritdoc />
    /// <remarks>
    /// Carries out the planned edit: re-reads the file and refuses (writing nothing) if it changed since
    /// Read, stores the old content in the bucket when backup is on, then writes the new content atomically
    /// keeping the file's mode and owner (a created file gets 0644 and the running user). Throws
    /// <see cref="ProviderException"/> on any refusal or failure.
    /// </remarks>
    public override ValueTask ApplyAsync(LineSpec spec, LineActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        if (changes.Count == 0) return ValueTask.CompletedTask;
        foreach (var change in changes)
            if (change.Property != "text") throw ProviderException.UnexpectedChange(Type, change.Property);
        ct.ThrowIfCancellationRequested();

        var system = context.System;
        var plan = Plan(spec, actual);
        if (plan is null) return ValueTask.CompletedTask;

        var now = system.Stat(spec.Path);
        if (actual.Content is { } old)
        {
            if (now?.Kind != FileKind.File || !system.ReadAllBytes(spec.Path).AsSpan().SequenceEqual(old))
                throw ProviderException.ChangedSinceRead(spec.Path);
            if (spec.Backup) context.Bucket.Store(old, spec.Path, spec.Sensitive || spec.SensitiveProperties.Count > 0);
        }
        else
        {
            if (now is not null) throw ProviderException.ChangedSinceRead(spec.Path);
            var parent = PathAutoRequires.ParentOf(spec.Path)!;
            if (system.Stat(parent) is not { Kind: FileKind.Directory })
                throw ProviderException.ParentMissing(spec.Path, parent);
        }
        // Null attributes: WriteFileAtomic keeps an existing file's mode and owner. A line does not own its file.
        system.WriteFileAtomic(spec.Path, plan.Value.Bytes, Machine.FileAttributes.Default);
        return ValueTask.CompletedTask;
    }

    private static (string? From, string To, byte[] Bytes)? Plan(LineSpec spec, LineActual actual)
    {
        LineText text;
        switch (actual.Kind)
        {
            case null when spec.Ensure == LineEnsure.Absent:
                return null; // no file, so certainly no such line
            case null when !spec.Create:
                throw ProviderException.LineFileMissing(spec.Path);
            case null:
                text = LineText.Empty();
                break;
            case FileKind.File:
                text = LineText.TryParse(actual.Content!) ?? throw ProviderException.NotText(spec.Path);
                break;
            case var kind:
                throw ProviderException.LineTargetNotAFile(spec.Path, kind.Value);
        }
        var edit = LineEdit.Apply(spec, text);
        return edit is { } e ? (e.From, e.To, text.ToBytes()) : null;
    }

    private static LinePattern? Pattern(SpecReader reader, string name)
    {
        if (reader.String(name) is not { } text) return null;
        var pattern = LinePattern.TryCreate(text, out var error);
        if (pattern is null)
        {
            // The parser's reason quotes the pattern, so it is left out when the pattern is a secret.
            var reason = reader.IsSensitive(name) ? "" : $": {error}";
            reader.Error(DiagnosticCodes.InvalidRegex, reader.SpanOf(name), $"{name} must be a valid .NET regular expression{reason}");
        }
        return pattern;
    }
}
