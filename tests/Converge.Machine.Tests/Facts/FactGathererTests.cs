using System.Text.Json.Nodes;
using Converge.Machine.Facts;

namespace Converge.Machine.Tests.Facts;

public sealed class FactGathererTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private string Put(string relative, string content)
    {
        var path = _root.Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private string PutExecutable(string relative, string script)
    {
        var path = Put(relative, script);
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("0755", 8));
        return path;
    }

    private Task<GatheredFacts> GatherAsync(FactOptions? options = null) =>
        new FactGatherer(options ?? new FactOptions { RootDirectory = _root.Path }).GatherAsync(CancellationToken.None);

    private static string? Text(JsonNode? node) => node?.GetValue<string>();

    [Fact]
    public async Task GatherAsync_ThisMachine_DescribesDebianHost()
    {
        var (facts, warnings) = await new FactGatherer(new FactOptions { FactsDirectory = _root.Combine("none") }).GatherAsync(CancellationToken.None);

        warnings.ShouldBeEmpty();
        Text(facts["os"]!["id"]).ShouldBe("debian");
        Text(facts["os"]!["family"]).ShouldBe("debian");
        Text(facts["os"]!["version_id"]).ShouldBe(Run.Output("sh", "-c", ". /etc/os-release; echo $VERSION_ID"));
        Text(facts["kernel"]!["name"]).ShouldBe("Linux");
        Text(facts["kernel"]!["release"]).ShouldBe(Run.Output("uname", "-r"));
        Text(facts["architecture"]).ShouldBe(Run.Output("dpkg", "--print-architecture"));
        Text(facts["hostname"]).ShouldBe(Run.Output("hostname").Split('.')[0]);
        facts["processors"]!["count"]!.GetValue<int>().ShouldBeGreaterThan(0);
        facts["memory"]!["total_bytes"]!.GetValue<long>().ShouldBeGreaterThan(facts["memory"]!["available_bytes"]!.GetValue<long>());
        facts["networking"]!["interfaces"]!.AsObject().ShouldContainKey("lo");
        facts["networking"]!["interfaces"]!["lo"]!["ipv4"]!.AsArray().Select(Text).ShouldContain("127.0.0.1");
        Text(facts["init"]).ShouldBe(File.ReadAllText("/proc/1/comm").Trim() == "systemd" ? "systemd" : "other");
        if (File.Exists("/.dockerenv") && !File.Exists("/run/systemd/container"))
            Text(facts["virtualization"]!["container"]).ShouldBe("docker");
    }

    [Fact]
    public async Task GatherAsync_PreparedRoot_ReadsEveryFileFact()
    {
        Put("etc/os-release", "NAME=\"Ubuntu\"\nVERSION=\"24.04.1 LTS (Noble Numbat)\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\n");
        Put("etc/hostname", "web-1\n");
        Put("etc/hosts", "127.0.0.1 localhost\n# 10.0.0.9 web-1.wrong.example\n10.0.0.5\tweb-1.example.com web-1 # primary\n");
        Put("proc/sys/kernel/osrelease", "6.1.0-test\n");
        Put("proc/meminfo", "MemTotal:        2048 kB\nMemFree:          100 kB\nMemAvailable:    1024 kB\n");
        Put("sys/devices/system/cpu/online", "0-3,6\n");
        Put("run/systemd/container", "lxc\n");
        Put("sys/class/dmi/id/sys_vendor", "QEMU\n");
        Put("sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n");
        Put("proc/1/comm", "systemd\n");

        var (facts, warnings) = await GatherAsync();

        warnings.ShouldBeEmpty();
        facts["os"]!.ToJsonString().ShouldBe("""{"id":"ubuntu","version":"24.04.1 LTS (Noble Numbat)","version_id":"24.04","family":"debian","codename":"noble","name":"Ubuntu"}""");
        Text(facts["kernel"]!["release"]).ShouldBe("6.1.0-test");
        facts["kernel"]!["version"].ShouldBeNull();
        Text(facts["hostname"]).ShouldBe("web-1");
        Text(facts["fqdn"]).ShouldBe("web-1.example.com");
        Text(facts["domain"]).ShouldBe("example.com");
        facts["memory"]!.ToJsonString().ShouldBe("""{"total_bytes":2097152,"available_bytes":1048576}""");
        facts["processors"]!["count"]!.GetValue<int>().ShouldBe(5);
        Text(facts["virtualization"]!["container"]).ShouldBe("lxc");
        Text(facts["virtualization"]!["hypervisor"]).ShouldBe("kvm");
        Text(facts["init"]).ShouldBe("systemd");
    }

    [Fact]
    public async Task GatherAsync_EmptyRoot_NullsInsteadOfErrors()
    {
        var (facts, warnings) = await GatherAsync();

        warnings.ShouldBeEmpty();
        facts["os"]!["id"].ShouldBeNull();
        facts["os"]!["family"].ShouldBeNull();
        facts["memory"]!["total_bytes"].ShouldBeNull();
        Text(facts["init"]).ShouldBe("other");
    }

    [Fact]
    public async Task GatherAsync_HostnameOverride_UsedForHostnameAndFqdn()
    {
        Put("etc/hostname", "real\n");

        var (facts, _) = await GatherAsync(new FactOptions { RootDirectory = _root.Path, Hostname = "db-2.prod.example" });

        Text(facts["hostname"]).ShouldBe("db-2");
        Text(facts["fqdn"]).ShouldBe("db-2.prod.example");
        Text(facts["domain"]).ShouldBe("prod.example");
    }

    [Fact]
    public async Task GatherAsync_ShortNameNotInHosts_FqdnIsHostname()
    {
        Put("etc/hostname", "lonely\n");
        Put("etc/hosts", "127.0.0.1 localhost\n");

        var (facts, _) = await GatherAsync();

        Text(facts["fqdn"]).ShouldBe("lonely");
        facts["domain"].ShouldBeNull();
    }

    [Fact]
    public async Task GatherAsync_ExternalFacts_MergedInNameOrder()
    {
        Put("etc/converge/facts.d/10-role.yaml", "role: web\nrack:\n  row: 3\n  label: '007'\nenabled: true\nweight: 1.5\nnothing: ~\n");
        Put("etc/converge/facts.d/20-team.json", """{"team": "payments", "role": "api"}""");
        PutExecutable("etc/converge/facts.d/30-dynamic", "#!/bin/sh\necho '{\"dynamic\": [1, 2], \"team\": \"from-script\"}'\n");
        Put("etc/converge/facts.d/README", "not a fact source");

        var (facts, warnings) = await GatherAsync();

        warnings.ShouldBeEmpty();
        Text(facts["role"]).ShouldBe("api");
        facts["rack"]!.ToJsonString().ShouldBe("""{"row":3,"label":"007"}""");
        facts["enabled"]!.GetValue<bool>().ShouldBeTrue();
        facts["weight"]!.GetValue<double>().ShouldBe(1.5);
        facts.AsObject().ShouldContainKey("nothing");
        facts["nothing"].ShouldBeNull();
        Text(facts["team"]).ShouldBe("from-script");
        facts["dynamic"]!.ToJsonString().ShouldBe("[1,2]");
        facts.AsObject().ShouldNotContainKey("README");
    }

    [Fact]
    public async Task GatherAsync_ExternalFactsDirectoryOption_Used()
    {
        var dir = _root.Combine("custom");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Join(dir, "x.yml"), "custom: yes-it-is\n");

        var (facts, _) = await GatherAsync(new FactOptions { RootDirectory = _root.Path, FactsDirectory = dir });

        Text(facts["custom"]).ShouldBe("yes-it-is");
    }

    [Fact]
    public async Task GatherAsync_BrokenExternalFacts_WarnEachAndKeepTheRest()
    {
        var badYaml = Put("etc/converge/facts.d/a.yaml", "key: [unclosed\n");
        var badJson = Put("etc/converge/facts.d/b.json", "{\"x\": ");
        var list = Put("etc/converge/facts.d/c.json", "[1, 2]");
        var failing = PutExecutable("etc/converge/facts.d/d-fails", "#!/bin/sh\necho 'database down' >&2\nexit 3\n");
        var notJson = PutExecutable("etc/converge/facts.d/e-text", "#!/bin/sh\necho hello\n");
        Put("etc/converge/facts.d/f-good.yaml", "good: 1\n");

        var (facts, warnings) = await GatherAsync();

        facts["good"]!.GetValue<long>().ShouldBe(1);
        warnings.Count.ShouldBe(5);
        warnings[0].ShouldStartWith($"{badYaml}: invalid YAML at line ");
        warnings[1].ShouldStartWith($"{badJson}: invalid JSON: ");
        warnings[2].ShouldBe($"{list}: JSON is a array; expected a map of facts");
        warnings[3].ShouldBe($"{failing}: exited with code 3: database down");
        warnings[4].ShouldStartWith($"{notJson}: output is not valid JSON: ");
    }

    [Fact]
    public async Task GatherAsync_HangingExecutableFact_KilledWithWarning()
    {
        var hanging = PutExecutable("etc/converge/facts.d/slow", "#!/bin/sh\nsleep 60\n");

        var (_, warnings) = await GatherAsync(new FactOptions { RootDirectory = _root.Path, ExternalFactTimeout = TimeSpan.FromMilliseconds(300) });

        warnings.ShouldBe([$"{hanging}: killed after 0.3 s without finishing"]);
    }
}
