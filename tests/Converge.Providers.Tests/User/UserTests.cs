using Converge.Providers.Accounts;
using Converge.Providers.User;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.User;

public class UserTests
{
    private const string Hash = "$6$salt$Tk3Qd9hD2n7c1yY0wIqgOK3d6xQ6rXf0b7hP0kA2v9m";
    private readonly UserProvider _provider = new();

    private static UserActual Existing(string name = "deploy") => new(name, true)
    {
        Uid = 2001, Gid = 2000, GidName = "deploy", DesiredGid = 2000, Comment = "Deploy", Home = "/home/deploy",
        Shell = "/bin/bash", Groups = ["adm"], Password = Hash, ExpiryDays = null,
    };

    [Fact]
    public void Parse_AllProperties_BuildsSpec()
    {
        var spec = ParseOk<UserSpec>(_provider, Resource("user", "deploy",
            ("uid", "2001"), ("gid", "deploy"), ("groups", List(Plain("sudo"), Plain("adm"))), ("membership", "exact"),
            ("home", "/srv/deploy"), ("managehome", "true"), ("shell", "/bin/bash"), ("comment", Quoted("Deploy user")),
            ("system", "false"), ("password", Quoted(Hash)), ("expiry", "2030-01-31")));
        spec.Uid.ShouldBe(2001);
        spec.Gid.ShouldBe(new Principal("deploy"));
        spec.Groups.ShouldBe(["adm", "sudo"]);
        spec.Membership.ShouldBe(Membership.Exact);
        spec.Home.ShouldBe("/srv/deploy");
        spec.ManageHome.ShouldBeTrue();
        spec.Comment.ShouldBe("Deploy user");
        spec.Password.ShouldBe(Hash);
        spec.Expiry.ShouldBe(new UserExpiry(new DateOnly(2030, 1, 31)));
        spec.IsSensitive("password").ShouldBeTrue("a password hash is always sensitive");
        spec.IsSensitive("shell").ShouldBeFalse();
    }

    [Fact]
    public void Parse_WithoutPassword_PasswordStillSensitive()
    {
        ParseOk<UserSpec>(_provider, Resource("user", "deploy")).IsSensitive("password").ShouldBeTrue();
    }

    [Fact]
    public void Parse_UidMinusOne_ReportsAtValue()
    {
        var (spec, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("uid", "-1")));
        spec.ShouldBeNull();
        errors.ShouldBe(["site.yaml:2:8: error CVG4101: user[deploy]: uid must be a whole number from 0 to 4294967294; got -1"]);
    }

    [Fact]
    public void Parse_UidNotANumber_Reports()
    {
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("uid", "12x")));
        errors.ShouldBe(["site.yaml:2:8: error CVG4101: user[deploy]: uid must be a whole number from 0 to 4294967294; got 12x"]);
    }

    [Fact]
    public void Parse_GidNumberOrName_BothAccepted_BadNameReported()
    {
        ParseOk<UserSpec>(_provider, Resource("user", "deploy", ("gid", "2000"))).Gid!.Id.ShouldBe(2000);
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("gid", "Wheel!")));
        errors.ShouldBe(["site.yaml:2:8: error CVG4100: user[deploy]: gid must be a valid name: lower-case letters, digits, '_' and '-', starting with a letter or '_', optionally ending in '$', at most 32 characters; got \"Wheel!\""]);
        var (_, negative) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("gid", "-5")));
        negative.Single().ShouldStartWith("site.yaml:2:8: error CVG4101: user[deploy]: gid must be a whole number");
    }

    [Fact]
    public void Parse_BadTitle_Reports()
    {
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "1deploy"));
        errors.Single().ShouldStartWith("site.yaml:1:9: error CVG4100: user[1deploy]: the user name (title) must be a valid name");
    }

    [Fact]
    public void Parse_MembershipSometimes_ReportsChoice()
    {
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("groups", "adm"), ("membership", "sometimes")));
        errors.Single().ShouldStartWith("site.yaml:3:15: error CVG4006: user[deploy]: membership must be one of minimum, exact; got sometimes");
    }

    [Fact]
    public void Parse_MalformedExpiry_Reports()
    {
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("expiry", "2030-02-30")));
        errors.ShouldBe(["site.yaml:2:11: error CVG4103: user[deploy]: expiry must be a date YYYY-MM-DD (1970 or later) or absent; got 2030-02-30"]);
        ParseOk<UserSpec>(_provider, Resource("user", "deploy", ("expiry", "absent"))).Expiry.ShouldBe(new UserExpiry(null));
    }

    [Fact]
    public void Parse_PlainTextPassword_ReportsWithoutQuotingIt()
    {
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("password", "hunter2")));
        errors.ShouldBe(["site.yaml:2:13: error CVG4102: user[deploy]: password must be a crypt(3) hash such as $y$… or $6$… (make one with mkpasswd or openssl passwd -6), or ! to lock the account; got a value that is not (not shown: it is sensitive)"]);
        errors.Single().ShouldNotContain("hunter2");
        var bag = new DiagnosticBag();
        _provider.Parse(Resource("user", "deploy", ("password", "hunter2")), bag);
        bag.Sorted().Single().HideExcerpt.ShouldBeTrue("the source line would show the value");
    }

    [Fact]
    public void Parse_HashShapes_Accepted()
    {
        foreach (var hash in new[] { Hash, "$y$j9T$F5Jx5fExrKuJdvA3uAtOM.$yVB1Gk5F3o4Pzj1rF9D2u3nVg6J5VJ9b/lA3hUQmVQ1", "!", "*", "!*", "!" + Hash, "abJnggxhB/yWI" })
            UserProvider.IsCryptHash(hash).ShouldBeTrue(hash);
        foreach (var bad in new[] { "hunter2", "$6$", "a:b", "" })
            UserProvider.IsCryptHash(bad).ShouldBeFalse(bad);
    }

    [Fact]
    public void Parse_CommentWithColon_Reports()
    {
        var (_, errors) = Parse<UserSpec>(_provider, Resource("user", "deploy", ("comment", Quoted("a:b"))));
        errors.ShouldBe(["site.yaml:2:12: error CVG4104: user[deploy]: comment must not contain ':' or a line break (it is a field of /etc/passwd)"]);
    }

    [Fact]
    public void Diff_UserMissing_PlansUseraddThenPassword()
    {
        var spec = new UserSpec("deploy")
        {
            Uid = 2001, Gid = new Principal("deploy"), Groups = ["adm", "sudo"], Home = "/srv/deploy", ManageHome = true,
            Shell = "/bin/bash", Comment = "Deploy user", Password = Hash, Expiry = new UserExpiry(new DateOnly(2030, 1, 31)),
        };
        var changes = _provider.Diff(spec, UserActual.Absent("deploy"));
        changes.Select(c => c.Argv).ShouldBe([
            ["useradd", "--uid", "2001", "--gid", "deploy", "--groups", "adm,sudo", "--home-dir", "/srv/deploy", "--create-home",
             "--shell", "/bin/bash", "--comment", "Deploy user", "--expiredate", "2030-01-31", "deploy"],
            ["usermod", "--password", Hash, "deploy"],
        ]);
        changes[0].Property.ShouldBe("ensure");
        changes[1].Property.ShouldBe("password");
    }

    [Fact]
    public void Diff_PasswordChange_MarksOnlyTheHashSensitive()
    {
        var missing = _provider.Diff(new UserSpec("deploy") { Uid = 2001, Password = Hash }, UserActual.Absent("deploy"));
        missing[0].SensitiveArgs.ShouldBeNull("useradd carries no sensitive value");
        missing[1].SensitiveArgs.ShouldBe(new HashSet<int> { 2 });
        missing[1].MaskedArgv().ShouldBe(["usermod", "--password", "(redacted)", "deploy"]);
        var existing = _provider.Diff(new UserSpec("deploy") { Password = "!" + Hash }, Existing()).Single();
        existing.MaskedArgv().ShouldBe(["usermod", "--password", "(redacted)", "deploy"]);
        existing.Argv.ShouldBe(["usermod", "--password", "!" + Hash, "deploy"], "the command that runs keeps the hash");
    }

    [Fact]
    public void Diff_PropertyFromSecret_MarksItsValueInUseraddAndUsermod()
    {
        // A comment computed from a secret: only its value hides, in the useradd of a new user and in usermod.
        var spec = ParseOk<UserSpec>(_provider, Resource("user", "deploy", ("shell", "/bin/sh"), ("comment", Plain("Ops 4711", sensitive: true))));
        _provider.Diff(spec, UserActual.Absent("deploy")).Single().MaskedArgv()
            .ShouldBe(["useradd", "--shell", "/bin/sh", "--comment", "(redacted)", "deploy"]);
        _provider.Diff(spec, Existing() with { Shell = "/bin/sh" }).Single().MaskedArgv()
            .ShouldBe(["usermod", "--comment", "(redacted)", "deploy"]);
    }

    [Fact]
    public void Diff_SystemUserMinimal_PlansUseraddSystem()
    {
        _provider.Diff(new UserSpec("svc") { System = true }, UserActual.Absent("svc")).Single().Argv
            .ShouldBe(["useradd", "--system", "svc"]);
    }

    [Fact]
    public void Diff_Converged_IsEmpty()
    {
        var spec = new UserSpec("deploy")
        {
            Uid = 2001, Gid = new Principal("deploy"), Groups = ["adm"], Membership = Membership.Exact, Home = "/home/deploy",
            Shell = "/bin/bash", Comment = "Deploy", Password = Hash, Expiry = new UserExpiry(null), System = true,
        };
        _provider.Diff(spec, Existing()).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_EachPropertyDiffers_OneUsermodEach()
    {
        var spec = new UserSpec("deploy")
        {
            Uid = 2002, Gid = new Principal("100"), Home = "/srv/deploy", ManageHome = true, Shell = "/bin/sh",
            Comment = "Deployer", Password = "!", Expiry = new UserExpiry(new DateOnly(1970, 1, 11)),
        };
        var changes = _provider.Diff(spec, Existing() with { DesiredGid = 100 });
        changes.Select(c => (c.Property, c.From, c.To)).ShouldBe([
            ("uid", "2001", "2002"), ("gid", "deploy", "100"), ("home", "/home/deploy", "/srv/deploy"), ("shell", "/bin/bash", "/bin/sh"),
            ("comment", "Deploy", "Deployer"), ("password", Hash, "!"), ("expiry", "absent", "1970-01-11"),
        ]);
        changes.Select(c => c.Argv).ShouldBe([
            ["usermod", "--uid", "2002", "deploy"],
            ["usermod", "--gid", "100", "deploy"],
            ["usermod", "--home", "/srv/deploy", "--move-home", "deploy"],
            ["usermod", "--shell", "/bin/sh", "deploy"],
            ["usermod", "--comment", "Deployer", "deploy"],
            ["usermod", "--password", "!", "deploy"],
            ["usermod", "--expiredate", "1970-01-11", "deploy"],
        ]);
    }

    [Fact]
    public void Diff_ExpiryToAbsent_PassesEmptyDate()
    {
        var change = _provider.Diff(new UserSpec("deploy") { Expiry = new UserExpiry(null) }, Existing() with { ExpiryDays = 10 }).Single();
        change.ShouldBe(new Change("expiry", "1970-01-11", "absent", change.Argv));
        change.Argv.ShouldBe(["usermod", "--expiredate", "", "deploy"]);
    }

    [Fact]
    public void Diff_GidNameNotYetCreated_AlwaysDiffers()
    {
        var change = _provider.Diff(new UserSpec("deploy") { Gid = new Principal("web") }, Existing() with { DesiredGid = null }).Single();
        change.Argv.ShouldBe(["usermod", "--gid", "web", "deploy"]);
    }

    [Fact]
    public void Diff_GroupsMinimum_AppendsMissingOnly()
    {
        var change = _provider.Diff(new UserSpec("deploy") { Groups = ["sudo", "www-data"] }, Existing()).Single();
        change.ShouldBe(new Change("groups", "adm", "adm,sudo,www-data", change.Argv));
        change.Argv.ShouldBe(["usermod", "--append", "--groups", "sudo,www-data", "deploy"]);
        _provider.Diff(new UserSpec("deploy") { Groups = [] }, Existing()).ShouldBeEmpty();
    }

    [Fact]
    public void Diff_GroupsExact_SetsTheList()
    {
        var change = _provider.Diff(new UserSpec("deploy") { Groups = ["sudo"], Membership = Membership.Exact }, Existing()).Single();
        change.ShouldBe(new Change("groups", "adm", "sudo", change.Argv));
        _provider.Diff(new UserSpec("deploy") { Groups = ["adm"] }, Existing() with { Groups = [] }).Single().From.ShouldBe("(none)");
        change.Argv.ShouldBe(["usermod", "--groups", "sudo", "deploy"]);
        _provider.Diff(new UserSpec("deploy") { Groups = [], Membership = Membership.Exact }, Existing()).Single().Argv
            .ShouldBe(["usermod", "--groups", "", "deploy"]);
    }

    [Fact]
    public void Diff_Absent_UserdelWithRemoveOnlyWithManagehome()
    {
        _provider.Diff(new UserSpec("deploy") { Ensure = UserEnsure.Absent }, Existing()).Single().Argv.ShouldBe(["userdel", "deploy"]);
        _provider.Diff(new UserSpec("deploy") { Ensure = UserEnsure.Absent, ManageHome = true }, Existing()).Single().Argv
            .ShouldBe(["userdel", "--remove", "deploy"]);
        _provider.Diff(new UserSpec("deploy") { Ensure = UserEnsure.Absent }, UserActual.Absent("deploy")).ShouldBeEmpty();
    }

    [Fact]
    public void AutoRequires_PrimaryAndSupplementaryGroups()
    {
        var ids = _provider.AutoRequires(new UserSpec("deploy") { Gid = new Principal("deploy"), Groups = ["adm", "deploy"] })
            .Select(a => a.FirstOf.Single().ToString());
        ids.ShouldBe(["group[deploy]", "group[adm]"]);
        _provider.AutoRequires(new UserSpec("deploy") { Gid = new Principal("100") }).ShouldBeEmpty();
    }
}
