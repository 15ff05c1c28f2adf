using System.Text;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.AuthorizedKey;

/// <summary>
/// The <c>authorized_key</c> type: one SSH public key in <c>~USER/.ssh/authorized_keys</c> (home from the
/// users database). The directory is 0700 and the file 0600, both owned by the user and the user's
/// primary group, as sshd's StrictModes demands. Existing lines are matched by key type and blob, so a
/// new comment or new options update the line in place; every other line is left as it is.
/// </summary>
public sealed class AuthorizedKeyProvider : ResourceProvider<AuthorizedKeySpec, AuthorizedKeyActual>
{
    private static readonly IReadOnlyList<KeyValuePair<string, AuthorizedKeyEnsure>> EnsureChoices =
    [
        new("present", AuthorizedKeyEnsure.Present),
        new("absent", AuthorizedKeyEnsure.Absent),
    ];

    /// <summary>The mode of ~/.ssh.</summary>
    public static readonly UnixMode DirectoryMode = new(0b111_000_000);

    /// <summary>The mode of authorized_keys.</summary>
    public static readonly UnixMode FileMode = new(0b110_000_000);

    /// <inheritdoc />
    public override string Type => "authorized_key";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } = ["user", "key", "type", "comment", "options", "ensure"];

    /// <summary>~/.ssh of a home directory.</summary>
    public static string SshDirectory(string home) => home.TrimEnd('/') + "/.ssh";

    /// <inheritdoc />
    /// <remarks>The key is decoded here, so a malformed one is a load-time error at its value (CVG4125).</remarks>
    public override AuthorizedKeySpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        reader.Require("user");
        reader.Require("key");
        var ensure = reader.Choice("ensure", EnsureChoices) ?? AuthorizedKeyEnsure.Present;
        var user = reader.Principal("user");
        if (user is { IsName: false })
            reader.Error(DiagnosticCodes.InvalidPrincipal, reader.SpanOf("user"), $"user must be a user name, not a numeric id; got {user.Text}");

        var key = reader.String("key")?.Trim();
        var type = reader.String("type")?.Trim();
        var comment = reader.String("comment");
        if (comment is not null && comment.AsSpan().IndexOfAny('\n', '\r') >= 0)
            reader.Error(DiagnosticCodes.InvalidSshKey, reader.SpanOf("comment"), "comment must be a single line");
        string? blob = null;
        if (key is not null)
        {
            var words = key.Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
            if (type is null)
            {
                if (words.Length < 2)
                    reader.Error(DiagnosticCodes.InvalidSshKey, reader.SpanOf("key"),
                        "key must be a whole public key line such as 'ssh-ed25519 AAAAC3Nz... user@host', or set type and give only the base64 data");
                else
                {
                    type = words[0];
                    blob = words[1];
                    if (comment is null && words.Length == 3) comment = words[2].Trim();
                }
            }
            else if (words.Length != 1)
                reader.Error(DiagnosticCodes.InvalidSshKey, reader.SpanOf("key"), "with type set, key must be only the base64 key data");
            else blob = words[0];

            if (type is not null && blob is not null && SshPublicKey.Check(type, blob) is { } reason)
                reader.Error(DiagnosticCodes.InvalidSshKey, reader.SpanOf(reader.Has("type") && reason.StartsWith("key type", StringComparison.Ordinal) ? "type" : "key"), reason);
        }

        var options = reader.StringList("options") ?? [];
        var items = resource.Properties.TryGetValue("options", out var raw) && raw is ListValue list ? list.Items : null;
        for (var i = 0; i < options.Count; i++)
            if (options[i] is var option && !SshPublicKey.IsValidOption(option))
                reader.Error(DiagnosticCodes.InvalidSshKeyOption, items is not null && i < items.Count ? items[i].Span : reader.SpanOf("options"),
                    $"option '{option}' must be a name such as no-pty, or name=\"value\" with the value in double quotes (from=\"10.0.0.0/8\")");
        if (ensure == AuthorizedKeyEnsure.Absent) reader.Ineffective("ensure is absent (the key is matched by type and data)", "comment", "options");
        if (reader.HasErrors || user is null || type is null || blob is null) return null;

        return new AuthorizedKeySpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            User = user.Text,
            Ensure = ensure,
            KeyType = type,
            Blob = blob,
            Comment = comment?.Trim() ?? "",
            Options = options,
        };
    }

    /// <inheritdoc />
    public override IEnumerable<AutoRequire> AutoRequires(AuthorizedKeySpec spec) => [AutoRequire.Of(new ResourceId("user", spec.User))];

    /// <inheritdoc />
    /// <remarks>True: the home directory comes from the users database, which a pending user resource changes.</remarks>
    public override bool ReadDependsOnUpstream(AuthorizedKeySpec spec) => true;

    /// <inheritdoc />
    /// <remarks>
    /// Keys of one user are chained, each reading what the previous wrote. The key is the user, not the
    /// path: the home directory is known only when Read asks the users database, after a pending
    /// <c>user</c> resource may have changed it.
    /// </remarks>
    public override string? ExclusiveKey(AuthorizedKeySpec spec) => "authorized_keys:" + spec.User;

    /// <inheritdoc />
    /// <remarks>Looks up the account, lstats ~/.ssh and the file, and reads the file when it is a regular one. Changes nothing.</remarks>
    public override ValueTask<AuthorizedKeyActual> ReadAsync(AuthorizedKeySpec spec, ProviderContext context, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var system = context.System;
        var account = system.Users.Account(spec.User);
        if (account is null) return ValueTask.FromResult(new AuthorizedKeyActual());
        var actual = new AuthorizedKeyActual { Account = account };
        var dir = system.Stat(actual.DirectoryPath!);
        var file = dir?.Kind == FileKind.Directory ? system.Stat(actual.FilePath!) : null;
        return ValueTask.FromResult(actual with
        {
            HomeMissing = dir is null && system.Stat(account.Value.Home)?.Kind != FileKind.Directory,
            DirectoryStatus = dir,
            FileStatus = file,
            Content = file?.Kind == FileKind.File ? Encoding.UTF8.GetString(system.ReadAllBytes(actual.FilePath!)) : null,
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Empty when the key line, the directory and the file are as wanted (for absent: when no line
    /// holds the key). Otherwise, in order: <c>ssh_directory</c> (create), <c>ssh_directory_mode</c>,
    /// <c>ssh_directory_owner</c>, <c>key</c> (with the file's unified diff), <c>mode</c>, <c>owner</c>.
    /// Throws <see cref="ProviderException"/> for a user that does not exist or has no home directory (when
    /// present) or something other than a directory/file in the way.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(AuthorizedKeySpec spec, AuthorizedKeyActual actual)
    {
        if (actual.Account is not { } account)
            return spec.Ensure == AuthorizedKeyEnsure.Absent ? [] : throw ProviderException.UnknownUser(spec.User);
        var dirPath = actual.DirectoryPath!;
        var filePath = actual.FilePath!;
        if (actual.DirectoryStatus is { Kind: not FileKind.Directory } d)
            throw ProviderException.AuthorizedKeysBlocked(dirPath, d.Kind, "a directory");
        if (actual.FileStatus is { Kind: not FileKind.File } f)
            throw ProviderException.AuthorizedKeysBlocked(filePath, f.Kind, "a regular file");

        var owner = $"{account.Uid}:{account.Gid}";
        var changes = new List<Change>();
        var edit = Edit(actual.Content, spec);
        if (spec.Ensure == AuthorizedKeyEnsure.Absent)
        {
            if (edit is { } removed)
                changes.Add(new Change("ensure", "present", "absent",
                    UnifiedDiff: UnifiedDiff.Render(actual.Content!, removed.Content, filePath, filePath)));
            return changes;
        }

        // mkdir of ~/.ssh would fail in apply; say so in the plan, and never make a home as root.
        if (actual.HomeMissing) throw ProviderException.HomeMissing(account.Home, spec.User);
        if (actual.DirectoryStatus is not { } dir)
            changes.Add(new Change("ssh_directory", "absent", $"{dirPath} {DirectoryMode.ToOctal()} {owner}"));
        else
        {
            if (dir.Mode != DirectoryMode) changes.Add(new Change("ssh_directory_mode", dir.Mode.ToOctal(), DirectoryMode.ToOctal()));
            if (dir.Uid != account.Uid || dir.Gid != account.Gid) changes.Add(new Change("ssh_directory_owner", $"{dir.Uid}:{dir.Gid}", owner));
        }
        if (edit is { } e)
            changes.Add(new Change("key", e.From ?? "absent", spec.Line,
                UnifiedDiff: UnifiedDiff.Render(actual.Content ?? "", e.Content, actual.Content is null ? "/dev/null" : filePath, filePath)));
        if (actual.FileStatus is { } file)
        {
            if (file.Mode != FileMode) changes.Add(new Change("mode", file.Mode.ToOctal(), FileMode.ToOctal()));
            if (file.Uid != account.Uid || file.Gid != account.Gid) changes.Add(new Change("owner", $"{file.Uid}:{file.Gid}", owner));
        }
        return changes;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Creates ~/.ssh (0700, the user's) when planned, fixes its mode and owner, then writes the edited
    /// file atomically with 0600 and the user's ownership, refusing (writing nothing) when the file
    /// changed since Read. Mode and owner changes alone are chmod/chown. Throws <see cref="ProviderException"/>.
    /// </remarks>
    public override ValueTask ApplyAsync(AuthorizedKeySpec spec, AuthorizedKeyActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        if (changes.Count == 0) return ValueTask.CompletedTask;
        ct.ThrowIfCancellationRequested();
        var system = context.System;
        var (_, uid, gid) = actual.Account!.Value;
        var dirPath = actual.DirectoryPath!;
        var filePath = actual.FilePath!;
        var properties = changes.Select(c => c.Property).ToHashSet();

        foreach (var property in properties)
            if (property is not ("ssh_directory" or "ssh_directory_mode" or "ssh_directory_owner" or "key" or "ensure" or "mode" or "owner"))
                throw ProviderException.UnexpectedChange(Type, property);
        if (properties.Contains("ssh_directory")) system.CreateDirectory(dirPath, new Machine.FileAttributes(DirectoryMode, uid, gid));
        if (properties.Contains("ssh_directory_mode")) system.SetMode(dirPath, DirectoryMode);
        if (properties.Contains("ssh_directory_owner")) system.SetOwner(dirPath, uid, gid);

        if (properties.Contains("key") || properties.Contains("ensure"))
        {
            var now = system.Stat(filePath);
            var content = now?.Kind == FileKind.File ? Encoding.UTF8.GetString(system.ReadAllBytes(filePath)) : null;
            if (content != actual.Content || (now is null) != (actual.FileStatus is null)) throw ProviderException.ChangedSinceRead(filePath);
            var edit = Edit(content, spec);
            if (edit is { } e)
            {
                // Absent keeps the file's own mode and owner; present gives it what sshd demands.
                var attributes = spec.Ensure == AuthorizedKeyEnsure.Present ? new Machine.FileAttributes(FileMode, uid, gid) : Machine.FileAttributes.Default;
                system.WriteFileAtomic(filePath, Encoding.UTF8.GetBytes(e.Content), attributes);
            }
            return ValueTask.CompletedTask;
        }
        if (properties.Contains("mode")) system.SetMode(filePath, FileMode);
        if (properties.Contains("owner")) system.SetOwner(filePath, uid, gid);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The pure edit: the file's text with the key's line as wanted, and the line it replaces (null when
    /// added). Null when nothing changes. The first line holding the key is replaced in place; further
    /// lines holding the same key are removed, since they would be duplicates of it.
    /// </summary>
    public static (string Content, string? From)? Edit(string? content, AuthorizedKeySpec spec)
    {
        var lines = (content ?? "").Split('\n').ToList();
        var endsWithNewline = lines[^1].Length == 0;
        if (endsWithNewline) lines.RemoveAt(lines.Count - 1);
        var matches = new List<int>();
        for (var i = 0; i < lines.Count; i++)
            if (SshPublicKey.KeyOf(lines[i]) is { } k && k.Type == spec.KeyType && k.Blob == spec.Blob) matches.Add(i);

        string? from;
        if (spec.Ensure == AuthorizedKeyEnsure.Absent)
        {
            if (matches.Count == 0) return null;
            from = lines[matches[0]];
            for (var k = matches.Count - 1; k >= 0; k--) lines.RemoveAt(matches[k]);
        }
        else if (matches.Count == 0)
        {
            from = null;
            lines.Add(spec.Line);
            endsWithNewline = true;
        }
        else
        {
            from = lines[matches[0]];
            if (matches.Count == 1 && from == spec.Line) return null;
            lines[matches[0]] = spec.Line;
            for (var k = matches.Count - 1; k >= 1; k--) lines.RemoveAt(matches[k]);
        }
        var text = string.Join('\n', lines);
        if (lines.Count > 0 && (endsWithNewline || spec.Ensure == AuthorizedKeyEnsure.Present)) text += "\n";
        return (text, from);
    }
}
