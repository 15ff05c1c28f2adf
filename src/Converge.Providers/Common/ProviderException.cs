using Converge.Machine;

namespace Converge.Providers.Common;

/// <summary>
/// Why an Apply, Refresh or Read could not do its job. Every message is written once, here, in a
/// factory; callers pass display forms that are already redacted, so no message carries a secret.
/// The engine prefixes the resource id, so messages do not repeat it.
/// </summary>
public sealed class ProviderException : Exception
{
    private ProviderException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>A directory (or device, socket, fifo) stands where a file resource wants a regular file.</summary>
    public static ProviderException NotAFile(string path, FileKind kind) =>
        new($"{path} is {Describe(kind)}, not a regular file; a file resource does not replace it — remove it or manage it as what it is");

    /// <summary>Something other than a directory stands where a directory resource wants one, and force is off.</summary>
    public static ProviderException NotADirectory(string path, FileKind kind) =>
        new($"{path} is {Describe(kind)}, not a directory; add force: true to replace it with a directory");

    /// <summary>A directory resource with ensure: absent found a non-empty directory and force is off.</summary>
    public static ProviderException DirectoryNotEmpty(string path) =>
        new($"directory {path} is not empty; add force: true to remove it with everything in it");

    /// <summary>Something stands where a link should be, and force is off.</summary>
    public static ProviderException LinkBlocked(string path, FileKind kind) =>
        new($"{path} is {Describe(kind)}, not a symlink; add force: true to replace it with the link");

    /// <summary>Converge creates one level only: a missing parent must be managed or created first.</summary>
    public static ProviderException ParentMissing(string path, string parent) =>
        new($"parent directory {parent} of {path} does not exist; manage it or create it");

    /// <summary>An owner named in the manifest does not exist when the change is applied.</summary>
    public static ProviderException UnknownUser(string user) =>
        new($"user {user} does not exist; create it (a user resource is required automatically) or use a numeric uid");

    /// <summary>A group named in the manifest does not exist when the change is applied.</summary>
    public static ProviderException UnknownGroup(string group) =>
        new($"group {group} does not exist; create it (a group resource is required automatically) or use a numeric gid");

    /// <summary>The content on disk changed between Read and Apply, so the planned backup would not be what is replaced.</summary>
    public static ProviderException ChangedSinceRead(string path) =>
        new($"{path} changed after it was read for the plan; nothing was written — run again");

    /// <summary>A file's <c>source</c> could not be read (missing, unreadable, a directory).</summary>
    public static ProviderException SourceUnreadable(string source, Exception cause) =>
        new($"cannot read source {source}: {cause.Message}", cause);

    /// <summary>The <c>validate</c> command rejected the new content; the live file was left untouched.</summary>
    public static ProviderException ValidationFailed(string command, ProcessResult result) =>
        new(result.TimedOut
            ? $"validate command timed out after {Seconds(result.Duration)}: {command}; the file was not changed"
            : $"validate command exited {result.ExitCode}: {command}; the file was not changed{TailOf(result)}");

    /// <summary>A command exited with a code not in <c>returns</c>.</summary>
    public static ProviderException CommandFailed(string command, ProcessResult result, IReadOnlyList<int> returns) =>
        new($"command exited {result.ExitCode} (expected {string.Join(" or ", returns)}): {command}{TailOf(result)}");

    /// <summary>A command ran longer than its timeout and was killed with its children.</summary>
    public static ProviderException CommandTimedOut(string command, TimeSpan timeout, ProcessResult result) =>
        new($"command timed out after {Seconds(timeout)} and was killed: {command}{TailOf(result)}");

    /// <summary>An <c>onlyif</c>/<c>unless</c> check ran longer than the timeout, so whether to run is unknown.</summary>
    public static ProviderException CheckTimedOut(string property, string command, TimeSpan timeout) =>
        new($"{property} check timed out after {Seconds(timeout)}: {command}");

    /// <summary>
    /// A command could not be started at all (missing executable or working directory, unknown user).
    /// The system's message already names the program and the reason ("cannot run x: no such executable
    /// file"), so it is kept as is; the full command follows only when it is not sensitive.
    /// </summary>
    public static ProviderException CommandNotStarted(string command, Exception cause) =>
        new(command == Compiler.Catalog.Value.Redacted ? cause.Message : $"{cause.Message} (command: {command})", cause);

    /// <summary>A <c>line</c> resource's file does not exist and <c>create</c> is off.</summary>
    public static ProviderException LineFileMissing(string path) =>
        new($"{path} does not exist; a line resource edits an existing file — add create: true to create it with the line, or manage the file");

    /// <summary>Something other than a regular file is at a <c>line</c> resource's path (symlinks are not followed).</summary>
    public static ProviderException LineTargetNotAFile(string path, FileKind kind) =>
        new(kind == FileKind.Symlink
            ? $"{path} is a symlink; a line resource edits regular files only — give the path of the file it points to"
            : $"{path} is {Describe(kind)}, not a regular file; a line resource edits regular files only");

    /// <summary>A <c>line</c> resource's file is not UTF-8 text, so it has no lines to edit.</summary>
    public static ProviderException NotText(string path) =>
        new($"{path} is not UTF-8 text (it has invalid bytes or a NUL); a line resource edits text files only");

    /// <summary>A <c>match</c> found several lines and <c>multiple</c> is off: which one to replace is ambiguous.</summary>
    public static ProviderException SeveralLinesMatch(string path, string pattern, IReadOnlyList<int> lineNumbers) =>
        new($"{lineNumbers.Count} lines of {path} match /{pattern}/ (lines {string.Join(", ", lineNumbers)}); set multiple: true to replace them all, or make match more specific");

    /// <summary>A pattern ran longer than its timeout on a line (catastrophic backtracking).</summary>
    public static ProviderException PatternTimedOut(string path, string pattern, TimeSpan timeout) =>
        new($"pattern /{pattern}/ took longer than {Seconds(timeout)} on a line of {path}; simplify it");

    /// <summary>Apply was handed a change this provider never plans: a bug in the engine or provider.</summary>
    public static ProviderException UnexpectedChange(string type, string property) =>
        new($"{type} provider cannot apply a change to '{property}'; it never plans one (this is a bug)");

    /// <summary>
    /// A package manager command failed (apt-get, dpkg-query, apt-cache). apt's own message (the tail of
    /// stderr, "E: Unable to locate package x") follows the exit code.
    /// </summary>
    public static ProviderException PackageCommandFailed(string command, ProcessResult result) =>
        new(result.TimedOut
            ? $"command timed out after {Seconds(result.Duration)} and was killed: {command}{TailOf(result)}"
            : $"command exited {result.ExitCode}: {command}{TailOf(result)}");

    /// <summary><c>crontab</c> failed (unknown user, a crontab cron rejects); its stderr says why.</summary>
    public static ProviderException CrontabFailed(IReadOnlyList<string> argv, ProcessResult result) =>
        new(result.TimedOut
            ? $"command timed out: {ShellQuote.Join(argv)}"
            : $"command exited {result.ExitCode}: {ShellQuote.Join(argv)}{TailOf(result)}");

    /// <summary>The crontab changed between Read and Apply (someone ran crontab -e); nothing was installed.</summary>
    public static ProviderException CrontabChangedSinceRead(string user) =>
        new($"the crontab of {user} changed after it was read for the plan; nothing was installed — run again");

    /// <summary>Something other than a regular file is where a cron.d file belongs.</summary>
    public static ProviderException CronFileNotAFile(string path, FileKind kind) =>
        new($"{path} is {Describe(kind)}, not a regular file; a cron resource does not replace it — remove it");

    /// <summary>authorized_key for a user whose home directory does not exist: ~/.ssh cannot be made in it.</summary>
    public static ProviderException HomeMissing(string home, string user) =>
        new($"home directory {home} of user {user} does not exist; create it (managehome: true on the user, or a directory resource) — authorized_key does not make homes");

    /// <summary>Something other than a directory is at ~/.ssh, or something other than a file at authorized_keys.</summary>
    public static ProviderException AuthorizedKeysBlocked(string path, FileKind kind, string wanted) =>
        new($"{path} is {Describe(kind)}, not {wanted}; an authorized_key resource does not replace it — remove it");

    /// <summary>A service manager command failed (sv, an init script, update-rc.d, systemctl); its output says why.</summary>
    public static ProviderException ServiceCommandFailed(IReadOnlyList<string> argv, ProcessResult result) =>
        new(result.TimedOut
            ? $"command timed out after {Seconds(result.Duration)} and was killed: {ShellQuote.Join(argv)}{TailOf(result)}"
            : $"command exited {result.ExitCode}: {ShellQuote.Join(argv)}{TailOf(result)}");

    /// <summary>runit supervises only services linked into its service directory; running one that is not enabled is impossible.</summary>
    public static ProviderException RunitServiceNotEnabled(string name, string link) =>
        new($"runit runs only services linked into its service directory, and {link} does not exist; add enable: true (or link it by hand) to run {name}");

    /// <summary><c>enable: false</c> on a systemd unit that <c>systemctl disable</c> cannot change.</summary>
    public static ProviderException SystemdUnitCannotBeDisabled(string name, string state) =>
        new($"systemd unit {name} is {state}: it has no [Install] section of its own, so systemctl disable cannot change it; " +
            "drop enable: false (use ensure: stopped), or mask the unit (a link resource to /dev/null in /etc/systemd/system)");

    /// <summary>Enabling a runit service whose definition directory does not exist would make a dangling link.</summary>
    public static ProviderException RunitDefinitionMissing(string definition) =>
        new($"{definition} does not exist; create the service directory (with its run script) before enabling it — a file/directory resource there is required automatically");

    /// <summary>The service was linked into runit's service directory but runsvdir did not start supervising it in time.</summary>
    public static ProviderException RunitNotSupervised(string name, TimeSpan waited) =>
        new($"{name} was linked into the service directory but no runsv supervised it after {Seconds(waited)}; is runsvdir running?");

    private static string TailOf(ProcessResult result)
    {
        var tail = result.Tail();
        return string.IsNullOrWhiteSpace(tail) ? "" : "\n" + tail;
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.###}s";

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.File => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Symlink => "a symlink",
        _ => "a special file",
    };
}
