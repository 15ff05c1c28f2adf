using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Link;

/// <summary>
/// The <c>link</c> type: a symlink at the path pointing at <c>target</c>. Created and retargeted atomically
/// (temp link + rename). Something else standing at the path is replaced only with <c>force: true</c>: a
/// regular file is backed up first, a directory is removed with everything in it.
/// </summary>
public sealed class LinkProvider : ResourceProvider<LinkSpec, LinkActual>, IPathResource
{
    /// <inheritdoc />
    public string PathOf(ResourceSpec spec) => ((LinkSpec)spec).Path;

    /// <inheritdoc />
    public bool ContentIsSensitive(ResourceSpec spec) => spec.Sensitive;

    private static readonly IReadOnlyList<KeyValuePair<string, LinkEnsure>> EnsureChoices =
    [
        new("link", LinkEnsure.Link),
        new("present", LinkEnsure.Link),
        new("absent", LinkEnsure.Absent),
    ];

    /// <inheritdoc />
    public override string Type => "link";

    /// <summary>Independent paths: applies overlap (their cost is mostly waiting for fsync).</summary>
    public override bool ConcurrentApply => true;

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } = ["ensure", "target", "force"];

    /// <inheritdoc />
    public override LinkSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var path = reader.TitlePath();
        var ensure = reader.Choice("ensure", EnsureChoices) ?? LinkEnsure.Link;
        var target = reader.String("target");
        if (ensure == LinkEnsure.Link)
            reader.Require("target", "unless ensure is absent");
        if (target is { Length: 0 })
            reader.Error(DiagnosticCodes.InvalidPath, reader.SpanOf("target"), "target must not be empty");
        var force = reader.Bool("force") ?? false;
        if (ensure == LinkEnsure.Absent)
            reader.Ineffective("ensure is absent", "target", "force");
        if (reader.HasErrors || path is null) return null;
        return new LinkSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Path = path,
            Ensure = ensure,
            Target = target,
            Force = force,
        };
    }

    /// <inheritdoc />
    public override IEnumerable<AutoRequire> AutoRequires(LinkSpec spec) => PathAutoRequires.AncestorDirectory(spec.Path);

    /// <inheritdoc />
    public override ValueTask<LinkActual> ReadAsync(LinkSpec spec, ProviderContext context, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var status = context.System.Stat(spec.Path);
        var replacesFile = status?.Kind == FileKind.File && spec.Force && spec.Ensure == LinkEnsure.Link;
        return ValueTask.FromResult(new LinkActual
        {
            Status = status,
            BlockingSha256 = replacesFile ? ContentText.Sha256(context.System.ReadAllBytes(spec.Path)) : null,
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Creating plans <c>ensure</c> (absent → link) and <c>target</c> (null → target); retargeting plans
    /// <c>target</c> (old → new); something else at the path plans <c>ensure</c> (its kind → link), which Apply
    /// refuses without force. With ensure: absent only a symlink is removed: a file or directory at the path
    /// is not a link, so there is nothing to do.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(LinkSpec spec, LinkActual actual)
    {
        var kind = actual.Kind;
        if (spec.Ensure == LinkEnsure.Absent)
            return kind == FileKind.Symlink ? [new Change("ensure", "link", "absent")] : [];
        if (kind == FileKind.Symlink)
            return actual.Target == spec.Target ? [] : [new Change("target", actual.Target, spec.Target)];
        return
        [
            new Change("ensure", kind is null ? "absent" : FileKinds.Name(kind.Value), "link") { Backup = actual.BlockingSha256 },
            new Change("target", null, spec.Target),
        ];
    }

    /// <inheritdoc />
    /// <remarks>
    /// Removes the link, or points the path at the target in one rename. Throws <see cref="ProviderException"/>
    /// when the parent directory is missing or something other than a link is in the way without force.
    /// </remarks>
    public override ValueTask ApplyAsync(LinkSpec spec, LinkActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        var system = context.System;
        foreach (var change in changes)
            if (change.Property is not ("ensure" or "target"))
                throw ProviderException.UnexpectedChange(Type, change.Property);
        if (changes.Count == 0) return ValueTask.CompletedTask;

        if (spec.Ensure == LinkEnsure.Absent)
        {
            system.DeleteFile(spec.Path);
            return ValueTask.CompletedTask;
        }

        var parent = PathAutoRequires.ParentOf(spec.Path)!;
        if (system.Stat(parent) is not { Kind: FileKind.Directory })
            throw ProviderException.ParentMissing(spec.Path, parent);
        switch (actual.Kind)
        {
            case null or FileKind.Symlink:
                break;
            case var blocking when !spec.Force:
                throw ProviderException.LinkBlocked(spec.Path, blocking.Value);
            case FileKind.Directory:
                system.DeleteDirectory(spec.Path, recursive: true);
                break;
            case FileKind.File:
                context.Bucket.Store(system.ReadAllBytes(spec.Path), spec.Path, spec.Sensitive);
                break; // the rename below replaces the file atomically
        }
        system.CreateSymlink(spec.Path, spec.Target!);
        return ValueTask.CompletedTask;
    }
}
