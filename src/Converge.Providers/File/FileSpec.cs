using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.File;

/// <summary>Whether a regular file should exist at the path.</summary>
public enum FileEnsure { File, Absent }

/// <summary>
/// The typed desired state of a <c>file</c> resource. <see cref="Content"/> and <see cref="Source"/> are
/// exclusive; with neither, only existence and attributes are managed (a missing file is created empty).
/// </summary>
public sealed record FileSpec : ResourceSpec, IManagesPath
{
    /// <summary>The absolute, normalized path (the title).</summary>
    public required string Path { get; init; }

    public FileEnsure Ensure { get; init; } = FileEnsure.File;

    /// <summary>The exact bytes the file should hold (UTF-8 of the manifest string, templates already rendered).</summary>
    public byte[]? Content { get; init; }

    /// <summary>An absolute path whose bytes the file should hold; read when the resource is read.</summary>
    public string? Source { get; init; }

    public OwnershipSpec Ownership { get; init; } = OwnershipSpec.Unmanaged;

    /// <summary>Checks new content on a temp copy before it replaces the live file; see <see cref="ValidateCommand"/>.</summary>
    public ValidateCommand? Validate { get; init; }

    /// <summary>Store replaced or removed content in the bucket first (default true).</summary>
    public bool Backup { get; init; } = true;

    /// <summary>True when the provider compares content (so Read has to read the file's bytes).</summary>
    public bool ManagesContent => Content is not null || Source is not null;

    public bool Equals(FileSpec? other) =>
        other is not null && base.Equals(other) && Path == other.Path && Ensure == other.Ensure
        && (Content is null ? other.Content is null : other.Content is not null && Content.AsSpan().SequenceEqual(other.Content))
        && Source == other.Source && Ownership == other.Ownership && Validate == other.Validate && Backup == other.Backup;

    public override int GetHashCode() => HashCode.Combine(Id, Path, Ensure, Source);
}

/// <summary>
/// A <c>validate</c> command in Puppet's validate_cmd convention: a shell string in which every <c>%</c>
/// becomes the quoted temp path, or an argv in which an item that is exactly <c>%</c> becomes it.
/// </summary>
public sealed record ValidateCommand(CommandLine Command)
{
    /// <summary>The placeholder for the path of the temp copy under test.</summary>
    public const string Placeholder = "%";

    /// <summary>True when the command mentions the placeholder (a validate that cannot see the file checks nothing).</summary>
    public bool HasPlaceholder => Command.IsShell ? Command.Argv[2].Contains('%') : Command.Argv.Contains(Placeholder);

    /// <summary>The argv to run against <paramref name="tempPath"/>.</summary>
    public IReadOnlyList<string> ArgvFor(string tempPath) => Command.IsShell
        ? [CommandLine.Shell, "-c", Command.Argv[2].Replace(Placeholder, ShellQuote.Quote(tempPath))]
        : Command.Argv.Select(a => a == Placeholder ? tempPath : a).ToArray();
}
