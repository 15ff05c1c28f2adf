namespace Converge.Providers.Common;

/// <summary>
/// A command as the manifest gave it: a shell string (run as <c>/bin/sh -c string</c>, the only case in
/// which Converge uses a shell) or an argv run as is. <see cref="Display"/> is how plans show it.
/// </summary>
public sealed record CommandLine(IReadOnlyList<string> Argv, string Display, bool IsShell)
{
    /// <summary>The shell every string command runs under.</summary>
    public const string Shell = "/bin/sh";

    /// <summary>A command the user wrote as one string: the shell interprets it.</summary>
    public static CommandLine FromShell(string command) => new([Shell, "-c", command], command, IsShell: true);

    /// <summary>A command the user wrote as a list: run exactly, no shell involved.</summary>
    public static CommandLine FromArgv(IReadOnlyList<string> argv) => new(argv.ToArray(), ShellQuote.Join(argv), IsShell: false);

    /// <summary>Value equality over the argv, so specs holding commands compare as data.</summary>
    public bool Equals(CommandLine? other) =>
        other is not null && IsShell == other.IsShell && Argv.SequenceEqual(other.Argv);

    public override int GetHashCode() => HashCode.Combine(IsShell, Argv.Count, Argv.Count > 0 ? Argv[^1] : "");
}
