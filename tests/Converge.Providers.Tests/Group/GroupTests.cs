using Converge.Providers.Accounts;
using Converge.Providers.Group;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Group;

public class GroupTests
{
    private readonly GroupProvider _provider = new();

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<GroupSpec>(_provider, Resource("group", "deploy",
            ("gid", "2000"), ("system", "true"), ("members", List(Plain("bob"), Plain("alice"), Plain("bob"))), ("membership", "exact")));
        spec.Name.ShouldBe("deploy");
        spec.Ensure.ShouldBe(GroupEnsure.Present);
        spec.Gid.ShouldBe(2000);
        spec.System.ShouldBeTrue();
        spec.Members.ShouldBe(["alice", "bob"]);
        spec.Membership.ShouldBe(Membership.Exact);
    }

    [Fact]
    public void Parse_SameSource_SpecsAreEqual()
    {
        GroupSpec Make() => ParseOk<GroupSpec>(_provider, Resource("group", "deploy", ("members", List(Plain("a")))));
        Make().ShouldBe(Make());
    }

    [Fact]
    public void Parse_NegativeGid_ReportsAtValue()
    {
        var (spec, errors) = Parse<GroupSpec>(_provider, Resource("group", "deploy", ("gid", "-1")));
        spec.ShouldBeNull();
        errors.ShouldBe(["site.yaml:2:8: error CVG4101: group[deploy]: gid must be a whole number from 0 to 4294967294; got -1"]);
    }

    [Fact]
    public void Parse_GidTooLarge_Reports()
    {
        var (_, errors) = Parse<GroupSpec>(_provider, Resource("group", "deploy", ("gid", "4294967295")));
        errors.ShouldBe(["site.yaml:2:8: error CVG4101: group[deploy]: gid must be a whole number from 0 to 4294967294; got 4294967295"]);
    }

    [Fact]
    public void Parse_BadName_ReportsAtTitle()
    {
        var (_, errors) = Parse<GroupSpec>(_provider, Resource("group", "Deploy"));
        errors.ShouldBe(["site.yaml:1:10: error CVG4100: group[Deploy]: the group name (title) must be a valid name: lower-case letters, digits, '_' and '-', starting with a letter or '_', optionally ending in '$', at most 32 characters; got \"Deploy\""]);
    }

    [Fact]
    public void Parse_BadMember_Reports()
    {
        var (_, errors) = Parse<GroupSpec>(_provider, Resource("group", "deploy", ("members", List(Plain("ok"), Plain("no way")))));
        errors.Single().ShouldStartWith("site.yaml:2:12: error CVG4100: group[deploy]: each item of members must be a valid name");
    }

    [Fact]
    public void Parse_MembershipSometimes_ReportsChoiceWithSuggestion()
    {
        var (_, errors) = Parse<GroupSpec>(_provider, Resource("group", "deploy", ("members", "a"), ("membership", "exakt")));
        errors.ShouldBe(["site.yaml:3:15: error CVG4006: group[deploy]: membership must be one of minimum, exact; got exakt; did you mean 'exact'?"]);
        var (_, other) = Parse<GroupSpec>(_provider, Resource("group", "deploy", ("members", "a"), ("membership", "sometimes")));
        other.Single().ShouldStartWith("site.yaml:3:15: error CVG4006: group[deploy]: membership must be one of minimum, exact; got sometimes");
    }

    [Fact]
    public void Parse_SystemNames_AreValid()
    {
        foreach (var name in new[] { "_ssh", "www-data", "systemd-journal", "machine$" })
            ParseOk<GroupSpec>(_provider, Resource("group", name)).Name.ShouldBe(name);
    }

    [Fact]
    public void Diff_GroupMissing_PlansGroupadd()
    {
        var changes = _provider.Diff(new GroupSpec("deploy") { Gid = 2000 }, GroupActual.Absent("deploy"));
        changes.Single().Argv.ShouldBe(["groupadd", "--gid", "2000", "deploy"]);
    }

    [Fact]
    public void Diff_SystemGroupWithMembers_PlansGroupaddThenGpasswd()
    {
        var changes = _provider.Diff(new GroupSpec("ops") { System = true, Members = ["alice", "bob"] }, GroupActual.Absent("ops"));
        changes.Select(c => c.Argv).ShouldBe([
            ["groupadd", "--system", "ops"],
            ["gpasswd", "--add", "alice", "ops"],
            ["gpasswd", "--add", "bob", "ops"],
        ]);
    }

    [Fact]
    public void Diff_GidDiffers_PlansGroupmod()
    {
        var change = _provider.Diff(new GroupSpec("deploy") { Gid = 2001 }, new GroupActual("deploy", true, 2000, [])).Single();
        change.ShouldBe(new Change("gid", "2000", "2001", change.Argv));
        change.Argv.ShouldBe(["groupmod", "--gid", "2001", "deploy"]);
    }

    [Fact]
    public void Diff_MinimumMembership_AddsOnly()
    {
        var changes = _provider.Diff(new GroupSpec("deploy") { Members = ["alice"] }, new GroupActual("deploy", true, 2000, ["carol"]));
        changes.Select(c => c.Argv).ShouldBe([["gpasswd", "--add", "alice", "deploy"]]);
    }

    [Fact]
    public void Diff_ExactMembership_AddsAndDeletes()
    {
        var changes = _provider.Diff(new GroupSpec("deploy") { Members = ["alice"], Membership = Membership.Exact },
            new GroupActual("deploy", true, 2000, ["alice", "carol"]));
        changes.Single().ShouldBe(new Change("members", "carol", null, changes[0].Argv));
        changes[0].Argv.ShouldBe(["gpasswd", "--delete", "carol", "deploy"]);
    }

    [Fact]
    public void Diff_Converged_IsEmpty()
    {
        _provider.Diff(new GroupSpec("deploy") { Gid = 2000, System = true, Members = ["a"], Membership = Membership.Exact },
            new GroupActual("deploy", true, 2000, ["a"])).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_Absent_PlansGroupdelOnlyWhenPresent()
    {
        var spec = new GroupSpec("deploy") { Ensure = GroupEnsure.Absent };
        _provider.Diff(spec, new GroupActual("deploy", true, 2000, [])).Single().Argv.ShouldBe(["groupdel", "deploy"]);
        _provider.Diff(spec, GroupActual.Absent("deploy")).ShouldBeEmpty();
    }

    [Fact]
    public void AutoRequires_None_MembersDoNotRequireUsers()
    {
        _provider.AutoRequires(new GroupSpec("deploy") { Members = ["alice"] }).ShouldBeEmpty();
    }
}
