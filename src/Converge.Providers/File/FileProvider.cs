using System.Text;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;
using FileAttributes = Converge.Machine.FileAttributes;

namespace Converge.Providers.File;

/// <summary>
/// The <c>file</c> type: a regular file's existence, content (inline or copied from <c>source</c>),
/// mode, owner and group. New content is written atomically with its attributes, optionally checked
/// first by a <c>validate</c> command on a temp copy, and the old content is backed up to the bucket.
/// A directory or special file standing at the path is never replaced (there is no force for files).
/// </summary>
public sealed class FileProvider : ResourceProvider<FileSpec, FileActual>, IPathResource
{
    /// <inheritdoc />
    public string PathOf(ResourceSpec spec) => ((FileSpec)spec).Path;

    /// <inheritdoc />
    public bool ContentIsSensitive(ResourceSpec spec) => IsContentSensitive((FileSpec)spec);

    private static bool IsContentSensitive(FileSpec spec) => spec.IsSensitive("content") || spec.IsSensitive("source");

    private static readonly IReadOnlyList<KeyValuePair<string, FileEnsure>> EnsureChoices =
    [
        new("file", FileEnsure.File),
        new("present", FileEnsure.File),
        new("absent", FileEnsure.Absent),
    ];

    private static readonly TimeSpan ValidateTimeout = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    public override string Type => "file";

    /// <summary>Independent paths: applies overlap (their cost is mostly waiting for fsync).</summary>
    public override bool ConcurrentApply => true;

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } =
        ["ensure", "content", "source", "mode", "owner", "group", "validate", "backup"];

    /// <inheritdoc />
    public override FileSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var path = reader.TitlePath();
        var ensure = reader.Choice("ensure", EnsureChoices) ?? FileEnsure.File;
        var content = reader.String("content");
        var source = reader.AbsolutePath("source");
        reader.Conflict("content", "source");
        var ownership = new OwnershipSpec(reader.Mode("mode"), reader.Principal("owner"), reader.Principal("group"));
        var validate = reader.Command("validate") is { } command ? new ValidateCommand(command) : null;
        if (validate is { HasPlaceholder: false })
            reader.Error(DiagnosticCodes.InvalidCommand, reader.SpanOf("validate"),
                "validate must contain % where the path of the file to check goes, e.g. \"nginx -t -c %\"");
        var backup = reader.Bool("backup") ?? true;
        if (ensure == FileEnsure.Absent)
            reader.Ineffective("ensure is absent", "content", "source", "mode", "owner", "group", "validate");
        if (reader.HasErrors || path is null) return null;

        return new FileSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Path = path,
            Ensure = ensure,
            Content = content is null ? null : Encoding.UTF8.GetBytes(content),
            Source = source,
            Ownership = ownership,
            Validate = validate,
            Backup = backup,
        };
    }

    /// <inheritdoc />
    public override IEnumerable<AutoRequire> AutoRequires(FileSpec spec) =>
        PathAutoRequires.AncestorDirectory(spec.Path)
            .Concat(PathAutoRequires.Principals(spec.Ownership.Owner, spec.Ownership.Group));

    /// <inheritdoc />
    /// <remarks>
    /// Reads the file's bytes only when content is managed (or when removing it with backup on), and the
    /// source file's bytes when <c>source</c> is set. A source that cannot be read fails the read.
    /// </remarks>
    public override ValueTask<FileActual> ReadAsync(FileSpec spec, ProviderContext context, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var system = context.System;
        var status = system.Stat(spec.Path);
        var isFile = status?.Kind == FileKind.File;
        var needBytes = spec.Ensure == FileEnsure.File ? spec.ManagesContent : spec.Backup;
        return ValueTask.FromResult(new FileActual
        {
            Status = status,
            Content = isFile && needBytes ? system.ReadAllBytes(spec.Path) : null,
            DesiredContent = spec.Ensure == FileEnsure.Absent ? null
                : spec.Content ?? (spec.Source is { } source ? ReadSource(source, system) : null),
            Ownership = OwnershipActual.Read(spec.Ownership, status, system.Users),
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Content changes show checksums and a unified diff (none when content is sensitive); with
    /// backup on, <see cref="Change.Backup"/> is the hash the old content will be stored under. A
    /// directory or special file at the path yields an <c>ensure</c> change that Apply refuses, so the
    /// plan shows the problem instead of hiding it.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(FileSpec spec, FileActual actual)
    {
        var kind = actual.Kind;
        if (spec.Ensure == FileEnsure.Absent)
        {
            if (kind is null) return [];
            return [new Change("ensure", FileKinds.Name(kind.Value), "absent") { Backup = BackupHash(spec, actual) }];
        }

        var changes = new List<Change>();
        if (kind != FileKind.File)
            changes.Add(new Change("ensure", kind is null ? "absent" : FileKinds.Name(kind.Value), "file"));
        if (kind is FileKind.Directory or FileKind.Other) return changes;

        if (actual.DesiredContent is { } desired && (actual.Content is not { } current || !current.AsSpan().SequenceEqual(desired)))
            changes.Add(ContentChange(spec, actual.Content, desired) with { Backup = BackupHash(spec, actual) });

        // A file about to be created gets its attributes in the same atomic write: list them (From = null).
        changes.AddRange(Ownership.Diff(spec.Ownership, actual.Ownership, kind == FileKind.File ? actual.Status : null));
        return changes;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Carries out exactly <paramref name="changes"/>: writes content (validated first, when asked) in one
    /// atomic rename with mode and owner; or sets only the attributes that changed; or removes the file.
    /// Old content is stored in the bucket first when backup is on; if the file changed since Read, nothing
    /// is written. Throws <see cref="ProviderException"/> with the reason on any refusal or failure.
    /// </remarks>
    public override async ValueTask ApplyAsync(FileSpec spec, FileActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        if (changes.Count == 0) return;
        var system = context.System;
        foreach (var change in changes)
            if (change.Property is not ("ensure" or "content") && !Ownership.IsOwnershipProperty(change.Property))
                throw ProviderException.UnexpectedChange(Type, change.Property);

        if (spec.Ensure == FileEnsure.Absent)
        {
            Remove(spec, actual, system, context.Bucket);
            return;
        }
        if (actual.Kind is FileKind.Directory or FileKind.Other)
            throw ProviderException.NotAFile(spec.Path, actual.Kind.Value);

        var writes = changes.Any(c => c.Property is "ensure" or "content");
        if (!writes)
        {
            Ownership.Apply(spec.Path, spec.Ownership, changes, system);
            return;
        }

        var parent = PathAutoRequires.ParentOf(spec.Path)!;
        if (system.Stat(parent) is not { Kind: FileKind.Directory })
            throw ProviderException.ParentMissing(spec.Path, parent);

        var attributes = Ownership.Resolve(spec.Ownership, system.Users);
        // Without managed content a write only happens to create the file (or replace a symlink): empty.
        var bytes = actual.DesiredContent ?? [];
        if (spec.Validate is { } validate)
            await ValidateAsync(spec, validate, bytes, attributes, system, ct).ConfigureAwait(false);
        if (actual.Kind == FileKind.File && spec.Backup && actual.Content is { } old)
            StoreBackup(spec, old, system, context.Bucket);
        system.WriteFileAtomic(spec.Path, bytes, attributes);
    }

    private static byte[] ReadSource(string source, ISystem system)
    {
        try
        {
            return system.ReadAllBytes(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ProviderException.SourceUnreadable(source, e);
        }
    }

    private static void Remove(FileSpec spec, FileActual actual, ISystem system, IBucket bucket)
    {
        switch (actual.Kind)
        {
            case null:
                return;
            case FileKind.Directory or FileKind.Other:
                throw ProviderException.NotAFile(spec.Path, actual.Kind.Value);
            case FileKind.File when spec.Backup && actual.Content is { } old:
                StoreBackup(spec, old, system, bucket);
                break;
        }
        system.DeleteFile(spec.Path);
    }

    /// <summary>
    /// Stores the bytes on disk now, refusing when they are not what Read saw: the plan promised a
    /// backup under that hash, and a backup of anything else would not be the content replaced.
    /// </summary>
    private static void StoreBackup(FileSpec spec, byte[] readContent, ISystem system, IBucket bucket)
    {
        var now = system.ReadAllBytes(spec.Path);
        if (!now.AsSpan().SequenceEqual(readContent)) throw ProviderException.ChangedSinceRead(spec.Path);
        bucket.Store(now, spec.Path, IsContentSensitive(spec));
    }

    private static async Task ValidateAsync(FileSpec spec, ValidateCommand validate, byte[] bytes, FileAttributes attributes, ISystem system, CancellationToken ct)
    {
        // Same directory as the target, so relative includes in the checked file resolve as they will live.
        var directory = PathAutoRequires.ParentOf(spec.Path)!;
        var temp = System.IO.Path.Join(directory, $".{System.IO.Path.GetFileName(spec.Path)}.converge-validate-{Guid.NewGuid():N}");
        try
        {
            system.WriteFileAtomic(temp, bytes, attributes);
            var argv = validate.ArgvFor(temp);
            var display = spec.IsSensitive("validate") ? Value.Redacted : ShellQuote.Join(argv);
            ProcessResult result;
            try
            {
                result = await system.RunAsync(new ProcessSpec(argv) { Timeout = ValidateTimeout }, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException or UnauthorizedAccessException)
            {
                throw ProviderException.CommandNotStarted(display, e);
            }
            if (result.ExitCode != 0 || result.TimedOut) throw ProviderException.ValidationFailed(display, result);
        }
        finally
        {
            system.DeleteFile(temp);
        }
    }

    private static Change ContentChange(FileSpec spec, byte[]? current, byte[] desired)
    {
        if (spec.IsSensitive("content") || spec.IsSensitive("source"))
            return new Change("content", current is null ? null : Value.Redacted, Value.Redacted);
        return new Change("content", current is null ? null : ContentText.Checksum(current), ContentText.Checksum(desired),
            UnifiedDiff: ContentText.UnifiedDiff(spec.Path, current, desired));
    }

    private static string? BackupHash(FileSpec spec, FileActual actual) =>
        spec.Backup && actual.Kind == FileKind.File && actual.Content is { } old ? ContentText.Sha256(old) : null;
}
