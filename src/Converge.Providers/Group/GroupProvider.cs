using System.Globalization;
using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Accounts;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Group;

/// <summary>
/// The <c>group</c> type: a local group, its gid and its members, through shadow-utils
/// (<c>groupadd</c>, <c>groupmod</c>, <c>gpasswd</c>, <c>groupdel</c>). The title is the group name.
/// Members do not auto-require their users: a user auto-requires its groups, so the reverse edge would
/// make a cycle; a member must exist when the group is applied (or be managed with the user's <c>groups</c>).
/// </summary>
public sealed class GroupProvider : ResourceProvider<GroupSpec, GroupActual>
{
    private static readonly IReadOnlyList<KeyValuePair<string, GroupEnsure>> EnsureChoices =
    [
        new("present", GroupEnsure.Present),
        new("absent", GroupEnsure.Absent),
    ];

    /// <inheritdoc />
    public override string Type => "group";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } = ["ensure", "gid", "system", "members", "membership"];

    /// <inheritdoc />
    public override GroupSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var name = AccountRules.TitleName(reader, "group");
        var ensure = reader.Choice("ensure", EnsureChoices) ?? GroupEnsure.Present;
        var gid = AccountRules.Id(reader, "gid");
        var system = reader.Bool("system") ?? false;
        var members = AccountRules.Names(reader, "members");
        var membership = AccountRules.ReadMembership(reader);
        if (ensure == GroupEnsure.Absent) reader.Ineffective("ensure is absent", "gid", "system", "members", "membership");
        else if (!reader.Has("members")) reader.Ineffective("members is not set", "membership");
        if (reader.HasErrors || name is null) return null;
        return new GroupSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Name = name,
            Ensure = ensure,
            Gid = gid,
            System = system,
            Members = members,
            Membership = membership,
        };
    }

    /// <inheritdoc />
    /// <remarks>Reads /etc/group only.</remarks>
    public override ValueTask<GroupActual> ReadAsync(GroupSpec spec, ProviderContext context, CancellationToken ct)
    {
        var entry = AccountFiles.Group(AccountFiles.Groups(context.System), spec.Name);
        return ValueTask.FromResult(entry is null
            ? GroupActual.Absent(spec.Name)
            : new GroupActual(entry.Name, true, entry.Gid, entry.Members.Distinct().Order(StringComparer.Ordinal).ToList()));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. A missing group: <c>groupadd</c>, then one <c>gpasswd --add</c> per member. An existing one:
    /// <c>groupmod --gid</c>, then adds, then (exact only) <c>gpasswd --delete</c> of unlisted members.
    /// Absent: <c>groupdel</c>. Every change carries the argv Apply runs.
    /// </remarks>
    public override IReadOnlyList<Change> Diff(GroupSpec spec, GroupActual actual)
    {
        var changes = new List<Change>();
        if (spec.Ensure == GroupEnsure.Absent)
        {
            if (actual.Exists) changes.Add(new Change("ensure", "present", "absent", ["groupdel", spec.Name]));
            return changes;
        }
        if (!actual.Exists)
        {
            List<string> argv = ["groupadd"];
            if (spec.Gid is { } g) argv.AddRange(["--gid", Text(g)]);
            if (spec.System) argv.Add("--system");
            argv.Add(spec.Name);
            changes.Add(new Change("ensure", "absent", "present", argv));
        }
        else if (spec.Gid is { } gid && gid != actual.Gid)
        {
            changes.Add(new Change("gid", Text(actual.Gid), Text(gid), ["groupmod", "--gid", Text(gid), spec.Name]));
        }
        if (spec.Members is { } members)
        {
            var current = actual.Members;
            foreach (var add in members.Except(current, StringComparer.Ordinal))
                changes.Add(new Change("members", null, add, ["gpasswd", "--add", add, spec.Name]));
            if (spec.Membership == Membership.Exact)
                foreach (var remove in current.Except(members, StringComparer.Ordinal))
                    changes.Add(new Change("members", remove, null, ["gpasswd", "--delete", remove, spec.Name]));
        }
        return changes;
    }

    /// <inheritdoc />
    /// <remarks>Runs each change's argv in order; the first failure throws with the command and the tail of its stderr.</remarks>
    public override async ValueTask ApplyAsync(GroupSpec spec, GroupActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        foreach (var change in changes)
        {
            if (change.Argv is not { Count: > 0 } argv) throw ProviderException.UnexpectedChange(Type, change.Property);
            await AccountCommands.RunAsync(context.System, argv, ShellQuote.Join(argv), ct).ConfigureAwait(false);
        }
    }

    private static string Text(long id) => id.ToString(CultureInfo.InvariantCulture);
}
