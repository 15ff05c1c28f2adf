using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Directory;

/// <summary>
/// The <c>directory</c> type: a directory's existence, mode, owner and group, and optionally the removal
/// (<c>purge</c>) of entries inside it that no resource manages. Like Puppet, it creates one level only:
/// a missing parent fails the resource ("manage it or create it") instead of silently creating
/// directories nobody declared, with modes nobody chose.
/// </summary>
public sealed class DirectoryProvider : ResourceProvider<DirectorySpec, DirectoryActual>, IPathResource
{
    /// <inheritdoc />
    public string PathOf(ResourceSpec spec) => ((DirectorySpec)spec).Path;

    /// <inheritdoc />
    /// <remarks>A directory has no content of its own; a file it replaces or purges is sensitive only with <c>sensitive: true</c>.</remarks>
    public bool ContentIsSensitive(ResourceSpec spec) => spec.Sensitive;

    private static readonly IReadOnlyList<KeyValuePair<string, DirectoryEnsure>> EnsureChoices =
    [
        new("directory", DirectoryEnsure.Directory),
        new("present", DirectoryEnsure.Directory),
        new("absent", DirectoryEnsure.Absent),
    ];

    /// <inheritdoc />
    public override string Type => "directory";

    /// <summary>Independent paths: applies overlap (their cost is mostly waiting for fsync).</summary>
    public override bool ConcurrentApply => true;

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } = ["ensure", "mode", "owner", "group", "purge", "force"];

    /// <inheritdoc />
    public override DirectorySpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var path = reader.TitlePath();
        var ensure = reader.Choice("ensure", EnsureChoices) ?? DirectoryEnsure.Directory;
        var ownership = new OwnershipSpec(reader.Mode("mode"), reader.Principal("owner"), reader.Principal("group"));
        var purge = reader.Bool("purge") ?? false;
        var force = reader.Bool("force") ?? false;
        if (ensure == DirectoryEnsure.Absent)
            reader.Ineffective("ensure is absent", "mode", "owner", "group", "purge");
        if (reader.HasErrors || path is null) return null;
        return new DirectorySpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Path = path,
            Ensure = ensure,
            Ownership = ownership,
            Purge = purge,
            Force = force,
        };
    }

    /// <inheritdoc />
    public override IEnumerable<AutoRequire> AutoRequires(DirectorySpec spec) =>
        PathAutoRequires.AncestorDirectory(spec.Path)
            .Concat(PathAutoRequires.Principals(spec.Ownership.Owner, spec.Ownership.Group));

    /// <inheritdoc />
    /// <remarks>
    /// With purge on, lists the directory and hashes each unmanaged regular file directly inside (the
    /// plan names the backup each removal will store). An entry is protected when it is managed itself
    /// or when a managed path lies below it.
    /// </remarks>
    public override ValueTask<DirectoryActual> ReadAsync(DirectorySpec spec, ProviderContext context, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var system = context.System;
        var status = system.Stat(spec.Path);
        var isDirectory = status?.Kind == FileKind.Directory;
        var entries = isDirectory ? system.ListDirectory(spec.Path) : [];
        var unmanaged = new List<PurgeEntry>();
        if (isDirectory && spec.Purge && spec.Ensure == DirectoryEnsure.Directory)
        {
            foreach (var name in entries)
            {
                ct.ThrowIfCancellationRequested();
                var path = spec.Path == "/" ? "/" + name : spec.Path + "/" + name;
                if (IsProtected(path, context.ManagedPaths)) continue;
                var kind = system.Stat(path)?.Kind;
                if (kind is null) continue; // removed while we were listing
                var sha = kind == FileKind.File ? ContentText.Sha256(system.ReadAllBytes(path)) : null;
                unmanaged.Add(new PurgeEntry(path, kind.Value, sha));
            }
        }
        return ValueTask.FromResult(new DirectoryActual
        {
            Status = status,
            IsEmpty = isDirectory && entries.Count == 0,
            BlockingSha256 = status?.Kind == FileKind.File && spec.Force && spec.Ensure == DirectoryEnsure.Directory
                ? ContentText.Sha256(system.ReadAllBytes(spec.Path)) : null,
            Unmanaged = unmanaged,
            Ownership = OwnershipActual.Read(spec.Ownership, status, system.Users),
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. A file or link at the path plans <c>ensure</c> (Apply needs force to replace it); a new
    /// directory lists its managed attributes with From = null; purge plans one change per entry
    /// (From = the entry's path, To = null, Backup = the hash a regular file is stored under).
    /// </remarks>
    public override IReadOnlyList<Change> Diff(DirectorySpec spec, DirectoryActual actual)
    {
        var kind = actual.Kind;
        if (spec.Ensure == DirectoryEnsure.Absent)
            // Absent means "no directory here": a file or link at the path belongs to another resource.
            return kind == FileKind.Directory ? [new Change("ensure", "directory", "absent")] : [];

        var changes = new List<Change>();
        if (kind != FileKind.Directory)
            changes.Add(new Change("ensure", kind is null ? "absent" : FileKinds.Name(kind.Value), "directory")
            {
                Backup = actual.BlockingSha256,
            });
        changes.AddRange(Ownership.Diff(spec.Ownership, actual.Ownership, kind == FileKind.Directory ? actual.Status : null));
        foreach (var entry in actual.Unmanaged)
            changes.Add(new Change("purge", entry.Path, null) { Backup = entry.Sha256 });
        return changes;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Creates the directory (one level, with its mode and owner), removes it (recursively only with
    /// force), sets changed attributes, and purges the listed entries, storing each regular file in the
    /// bucket first (files inside a purged subdirectory too). Throws <see cref="ProviderException"/> when
    /// the parent is missing, something blocks the path without force, or a non-empty directory would be
    /// removed without force.
    /// </remarks>
    public override ValueTask ApplyAsync(DirectorySpec spec, DirectoryActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        var system = context.System;
        foreach (var change in changes)
            if (change.Property is not ("ensure" or "purge") && !Ownership.IsOwnershipProperty(change.Property))
                throw ProviderException.UnexpectedChange(Type, change.Property);

        if (changes.Any(c => c.Property == "ensure"))
        {
            if (spec.Ensure == DirectoryEnsure.Absent)
            {
                if (!actual.IsEmpty && !spec.Force) throw ProviderException.DirectoryNotEmpty(spec.Path);
                system.DeleteDirectory(spec.Path, recursive: spec.Force);
                return ValueTask.CompletedTask;
            }
            Create(spec, actual, system, context.Bucket);
        }
        else
        {
            Ownership.Apply(spec.Path, spec.Ownership, changes, system);
        }

        foreach (var change in changes.Where(c => c.Property == "purge"))
        {
            ct.ThrowIfCancellationRequested();
            RemoveEntry(change.From!, system, context.Bucket, spec.Sensitive);
        }
        return ValueTask.CompletedTask;
    }

    private static void Create(DirectorySpec spec, DirectoryActual actual, ISystem system, IBucket bucket)
    {
        var parent = PathAutoRequires.ParentOf(spec.Path);
        if (parent is not null && system.Stat(parent) is not { Kind: FileKind.Directory })
            throw ProviderException.ParentMissing(spec.Path, parent);
        if (actual.Kind is { } blocking)
        {
            if (!spec.Force) throw ProviderException.NotADirectory(spec.Path, blocking);
            if (blocking == FileKind.File) bucket.Store(system.ReadAllBytes(spec.Path), spec.Path, spec.Sensitive);
            system.DeleteFile(spec.Path);
        }
        system.CreateDirectory(spec.Path, Ownership.Resolve(spec.Ownership, system.Users));
    }

    private static void RemoveEntry(string path, ISystem system, IBucket bucket, bool sensitive)
    {
        switch (system.Stat(path)?.Kind)
        {
            case null:
                return;
            case FileKind.Directory:
                BackupTree(path, system, bucket, sensitive);
                system.DeleteDirectory(path, recursive: true);
                return;
            case FileKind.File:
                bucket.Store(system.ReadAllBytes(path), path, sensitive);
                system.DeleteFile(path);
                return;
            default:
                system.DeleteFile(path);
                return;
        }
    }

    // Purge must never lose content without a copy, including files deep inside a purged subdirectory.
    private static void BackupTree(string directory, ISystem system, IBucket bucket, bool sensitive)
    {
        foreach (var name in system.ListDirectory(directory))
        {
            var path = directory + "/" + name;
            switch (system.Stat(path)?.Kind)
            {
                case FileKind.File: bucket.Store(system.ReadAllBytes(path), path, sensitive); break;
                case FileKind.Directory: BackupTree(path, system, bucket, sensitive); break;
            }
        }
    }

    /// <summary>Managed itself, or an ancestor of a managed path (which purge must keep to keep that path).</summary>
    private static bool IsProtected(string path, IReadOnlySet<string> managed)
    {
        if (managed.Contains(path)) return true;
        var prefix = path + "/";
        foreach (var m in managed)
            if (m.StartsWith(prefix, StringComparison.Ordinal)) return true;
        return false;
    }
}
