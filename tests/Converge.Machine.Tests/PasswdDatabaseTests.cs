namespace Converge.Machine.Tests;

public sealed class PasswdDatabaseTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public PasswdDatabaseTests()
    {
        Directory.CreateDirectory(_root.Combine("etc"));
        _root.Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n# comment\n+nis\ndeploy:x:1001:1002:Deploy:/home/deploy:/bin/sh\nbroken:x:notanumber:1:::\ndeploy:x:9999:9999::/elsewhere:/bin/sh\n");
        _root.Write("etc/group", "root:x:0:\nwww:x:1002:deploy\n");
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Lookups_KnownNames_ReturnIds()
    {
        var db = new PasswdDatabase(_root.Path);

        db.UidOf("deploy").ShouldBe(1001);
        db.GidOf("www").ShouldBe(1002);
        db.UserName(0).ShouldBe("root");
        db.GroupName(1002).ShouldBe("www");
        db.Account("deploy").ShouldBe(("/home/deploy", 1001, 1002));
        db.Account("1001").ShouldBe(("/home/deploy", 1001, 1002));
    }

    [Fact]
    public void Lookups_UnknownOrMalformed_ReturnNull()
    {
        var db = new PasswdDatabase(_root.Path);

        db.UidOf("nope").ShouldBeNull();
        db.UidOf("broken").ShouldBeNull();
        db.UidOf("+nis").ShouldBeNull();
        db.UserName(4242).ShouldBeNull();
        db.GidOf("nope").ShouldBeNull();
        db.Account("42").ShouldBeNull();
    }

    [Fact]
    public void Lookups_FileReplacedAfterFirstLookup_SeeNewEntries()
    {
        var db = new PasswdDatabase(_root.Path);
        db.UidOf("app").ShouldBeNull();
        db.GidOf("app").ShouldBeNull();

        // useradd/groupadd write a new file and rename it over the old one.
        File.WriteAllText(_root.Combine("etc/passwd.new"), File.ReadAllText(_root.Combine("etc/passwd")) + "app:x:1003:1003::/home/app:/bin/sh\n");
        File.Move(_root.Combine("etc/passwd.new"), _root.Combine("etc/passwd"), overwrite: true);
        File.AppendAllText(_root.Combine("etc/group"), "app:x:1003:\n");

        db.UidOf("app").ShouldBe(1003);
        db.GidOf("app").ShouldBe(1003);
    }

    [Fact]
    public void Lookups_MissingFiles_ReadAsEmpty()
    {
        using var empty = new TempDirectory();

        new PasswdDatabase(empty.Path).UidOf("root").ShouldBeNull();
    }

    [Fact]
    public void Lookups_RealMachine_FindsNobody()
    {
        var db = new PasswdDatabase();

        db.UidOf("nobody").ShouldBe(65534);
        db.GidOf("nogroup").ShouldBe(65534);
    }
}
