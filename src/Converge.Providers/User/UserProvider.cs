using System.Globalization;
using System.Text.RegularExpressions;
using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Accounts;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.User;

/// <summary>
/// The <c>user</c> type: a local account through shadow-utils (<c>useradd</c>, <c>usermod</c>,
/// <c>userdel</c>, long options only), read from passwd, shadow and group. The title is the login name.
/// Each differing property is one <c>usermod</c>, so the plan shows one command per change; a new user
/// is one <c>useradd</c> with every managed property, then (when set) a separate
/// <c>usermod --password</c>, so the hash only ever travels in a change of its own, where it is marked sensitive.
/// </summary>
public sealed partial class UserProvider : ResourceProvider<UserSpec, UserActual>
{
    /// <summary>Properties redacted whatever their source: the password hash.</summary>
    public static readonly IReadOnlySet<string> AlwaysSensitive = new HashSet<string>(StringComparer.Ordinal) { "password" };

    private static readonly IReadOnlyList<KeyValuePair<string, UserEnsure>> EnsureChoices =
    [
        new("present", UserEnsure.Present),
        new("absent", UserEnsure.Absent),
    ];

    /// <inheritdoc />
    public override string Type => "user";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } =
        ["ensure", "uid", "gid", "groups", "membership", "home", "managehome", "shell", "comment", "system", "password", "expiry"];

    /// <inheritdoc />
    public override UserSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        reader.MarkSensitive("password");
        var name = AccountRules.TitleName(reader, "user");
        var ensure = reader.Choice("ensure", EnsureChoices) ?? UserEnsure.Present;
        var uid = AccountRules.Id(reader, "uid");
        var gid = AccountRules.GroupRef(reader, "gid");
        var groups = AccountRules.Names(reader, "groups");
        var membership = AccountRules.ReadMembership(reader);
        var home = reader.AbsolutePath("home");
        var manageHome = reader.Bool("managehome") ?? false;
        var shell = reader.AbsolutePath("shell");
        var comment = reader.String("comment");
        if (comment is not null && comment.AsSpan().IndexOfAny(':', '\n', '\r') >= 0)
            reader.Error(DiagnosticCodes.InvalidComment, reader.SpanOf("comment"),
                "comment must not contain ':' or a line break (it is a field of /etc/passwd)");
        var system = reader.Bool("system") ?? false;
        var password = reader.String("password");
        if (password is not null && !IsCryptHash(password))
            reader.Error(DiagnosticCodes.InvalidPasswordHash, reader.SpanOf("password"),
                "password must be a crypt(3) hash such as $y$… or $6$… (make one with mkpasswd or openssl passwd -6), or ! to lock the account; got a value that is not (not shown: it is sensitive)");
        var expiry = Expiry(reader);
        if (ensure == UserEnsure.Absent)
            reader.Ineffective("ensure is absent", "uid", "gid", "groups", "membership", "home", "shell", "comment", "system", "password", "expiry");
        else if (!reader.Has("groups")) reader.Ineffective("groups is not set", "membership");
        if (reader.HasErrors || name is null) return null;
        return new UserSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Name = name,
            Ensure = ensure,
            Uid = uid,
            Gid = gid,
            Groups = groups,
            Membership = membership,
            Home = home,
            ManageHome = manageHome,
            Shell = shell,
            Comment = comment,
            System = system,
            Password = password,
            Expiry = expiry,
        };
    }

    /// <inheritdoc />
    /// <remarks><c>group[…]</c> for the primary group given by name and for each supplementary group, when managed.</remarks>
    public override IEnumerable<AutoRequire> AutoRequires(UserSpec spec)
    {
        if (spec.Ensure == UserEnsure.Absent) yield break;
        if (spec.Gid is { IsName: true } gid) yield return AutoRequire.Of(new ResourceId("group", gid.Text));
        foreach (var group in spec.Groups ?? [])
            if (group != spec.Gid?.Text) yield return AutoRequire.Of(new ResourceId("group", group));
    }

    /// <inheritdoc />
    /// <remarks>Reads /etc/passwd and /etc/group; /etc/shadow only when password or expiry is managed (it is readable by root only).</remarks>
    public override ValueTask<UserActual> ReadAsync(UserSpec spec, ProviderContext context, CancellationToken ct)
    {
        var system = context.System;
        var groups = AccountFiles.Groups(system);
        long? desiredGid = spec.Gid is null ? null
            : spec.Gid.Id is { } n ? n
            : AccountFiles.Group(groups, spec.Gid.Text)?.Gid;
        var entry = AccountFiles.User(system, spec.Name);
        if (entry is null) return ValueTask.FromResult(UserActual.Absent(spec.Name, desiredGid));
        var shadow = spec.Password is not null || spec.Expiry is not null ? AccountFiles.Shadow(system, spec.Name) : null;
        return ValueTask.FromResult(new UserActual(spec.Name, true)
        {
            Uid = entry.Uid,
            Gid = entry.Gid,
            GidName = groups.FirstOrDefault(g => g.Gid == entry.Gid)?.Name,
            DesiredGid = desiredGid,
            Comment = entry.Comment,
            Home = entry.Home,
            Shell = entry.Shell,
            Groups = groups.Where(g => g.Members.Contains(spec.Name, StringComparer.Ordinal)).Select(g => g.Name)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            Password = shadow?.Password,
            ExpiryDays = shadow?.ExpiryDays,
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. Missing user: one <c>useradd</c> with every managed property, then <c>usermod --password</c>.
    /// Existing user: one <c>usermod</c> per differing property. Absent: <c>userdel</c>, with
    /// <c>--remove</c> (home and mail spool) when managehome is true. A primary group given by name that did
    /// not exist at Read time always differs: it may be created earlier in the run.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(UserSpec spec, UserActual actual)
    {
        var name = spec.Name;
        var changes = new List<Change>();
        if (spec.Ensure == UserEnsure.Absent)
        {
            if (actual.Exists)
                changes.Add(new Change("ensure", "present", "absent", spec.ManageHome ? ["userdel", "--remove", name] : ["userdel", name]));
            return changes;
        }
        if (!actual.Exists)
        {
            var add = new Command(spec, "useradd");
            if (spec.Uid is { } u) add.Option("--uid", Text(u), "uid");
            if (spec.Gid is { } g) add.Option("--gid", g.Text, "gid");
            if (spec.Groups is { Count: > 0 } gs) add.Option("--groups", string.Join(',', gs), "groups");
            if (spec.Home is { } h) add.Option("--home-dir", h, "home");
            if (spec.ManageHome) add.Flag("--create-home");
            if (spec.Shell is { } s) add.Option("--shell", s, "shell");
            if (spec.Comment is { } c) add.Option("--comment", c, "comment");
            if (spec.System) add.Flag("--system");
            if (spec.Expiry is { Date: not null } e) add.Option("--expiredate", e.ToString(), "expiry");
            changes.Add(add.Build("ensure", "absent", "present"));
            if (spec.Password is { } p)
                changes.Add(new Command(spec, "usermod").Option("--password", p, "password").Build("password", null, p));
            return changes;
        }
        if (spec.Uid is { } uid && uid != actual.Uid)
            changes.Add(Usermod(spec, "--uid", Text(uid), "uid").Build("uid", Text(actual.Uid), Text(uid)));
        if (spec.Gid is { } gid && actual.DesiredGid != actual.Gid)
            changes.Add(Usermod(spec, "--gid", gid.Text, "gid").Build("gid", actual.GidName ?? Text(actual.Gid), gid.Text));
        if (spec.Groups is { } groups)
        {
            if (spec.Membership == Membership.Exact)
            {
                if (!groups.SequenceEqual(actual.Groups))
                    changes.Add(Usermod(spec, "--groups", string.Join(',', groups), "groups").Build("groups", Show(actual.Groups), Show(groups)));
            }
            else
            {
                var missing = groups.Except(actual.Groups, StringComparer.Ordinal).ToList();
                if (missing.Count > 0)
                    changes.Add(new Command(spec, "usermod").Flag("--append").Option("--groups", string.Join(',', missing), "groups")
                        .Build("groups", Show(actual.Groups), Show(actual.Groups.Union(missing).Order(StringComparer.Ordinal).ToList())));
            }
        }
        if (spec.Home is { } home && home != actual.Home)
        {
            var move = new Command(spec, "usermod").Option("--home", home, "home");
            if (spec.ManageHome) move.Flag("--move-home");
            changes.Add(move.Build("home", actual.Home, home));
        }
        if (spec.Shell is { } shell && shell != actual.Shell)
            changes.Add(Usermod(spec, "--shell", shell, "shell").Build("shell", actual.Shell, shell));
        if (spec.Comment is { } comment && comment != actual.Comment)
            changes.Add(Usermod(spec, "--comment", comment, "comment").Build("comment", actual.Comment, comment));
        if (spec.Password is { } password && password != actual.Password)
            changes.Add(Usermod(spec, "--password", password, "password").Build("password", actual.Password, password));
        if (spec.Expiry is { } expiry && expiry.Days != actual.ExpiryDays)
            changes.Add(Usermod(spec, "--expiredate", expiry.Date is null ? "" : expiry.ToString(), "expiry")
                .Build("expiry", UserExpiry.Show(actual.ExpiryDays), expiry.ToString()));
        return changes;
    }

    private static Command Usermod(UserSpec spec, string option, string value, string property) =>
        new Command(spec, "usermod").Option(option, value, property);

    /// <summary>
    /// A shadow-utils argv being built; each option value taken from a sensitive property is marked in
    /// <see cref="Change.SensitiveArgs"/>, so plans show the command with only that value redacted.
    /// The login name (the title) is never sensitive: ids must not come from secrets.
    /// </summary>
    private sealed class Command(UserSpec spec, string program)
    {
        private readonly List<string> _argv = [program];
        private HashSet<int>? _sensitive;

        public Command Flag(string flag)
        {
            _argv.Add(flag);
            return this;
        }

        public Command Option(string option, string value, string property)
        {
            _argv.Add(option);
            if (spec.IsSensitive(property) || AlwaysSensitive.Contains(property)) (_sensitive ??= []).Add(_argv.Count);
            _argv.Add(value);
            return this;
        }

        public Change Build(string property, string? from, string? to)
        {
            _argv.Add(spec.Name);
            return new Change(property, from, to, _argv) { SensitiveArgs = _sensitive };
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Runs each change's argv in order; the first failure throws with the command (the hash, and any
    /// other sensitive value, shown as (redacted)) and the tail of stderr.
    /// </remarks>
    public override async ValueTask ApplyAsync(UserSpec spec, UserActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        foreach (var change in changes)
        {
            if (change.Argv is not { Count: > 0 } argv) throw ProviderException.UnexpectedChange(Type, change.Property);
            // The same view the plan shows: only the values the diff marked sensitive are hidden.
            var display = spec.Sensitive ? Value.Redacted : ShellQuote.Join(change.MaskedArgv()!);
            await AccountCommands.RunAsync(context.System, argv, display, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// True for the shapes crypt(3) produces — <c>$id$…</c> (yescrypt, SHA-512, bcrypt, …) or 13-character
    /// DES — optionally behind '!' (locked), and for the bare lock markers <c>!</c>, <c>*</c>, <c>!*</c>.
    /// A plain-text password fails (unless it happens to be 13 characters of [./0-9A-Za-z]).
    /// </summary>
    public static bool IsCryptHash(string text) => CryptRegex().IsMatch(text);

    [GeneratedRegex(@"^(?:[!*]{1,2}|!?(?:\$[0-9a-z]+\$[./0-9A-Za-z$=,+-]+|[./0-9A-Za-z]{13}))\z", RegexOptions.CultureInvariant)]
    private static partial Regex CryptRegex();

    private static UserExpiry? Expiry(SpecReader reader)
    {
        var text = reader.String("expiry");
        if (text is null) return null;
        if (text == "absent") return new UserExpiry(null);
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) && date.Year >= 1970)
            return new UserExpiry(date);
        reader.Error(DiagnosticCodes.InvalidExpiry, reader.SpanOf("expiry"),
            $"expiry must be a date YYYY-MM-DD (1970 or later) or absent; got {text}");
        return null;
    }

    private static string Show(IReadOnlyList<string> names) => names.Count == 0 ? "(none)" : string.Join(",", names);

    private static string Text(long id) => id.ToString(CultureInfo.InvariantCulture);
}
