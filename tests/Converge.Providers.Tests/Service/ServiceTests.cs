using Converge.Providers.Service;
using static Converge.Providers.Tests.Kit.Manifest;

namespace Converge.Providers.Tests.Service;

public class ServiceParseTests
{
    private readonly ServiceProvider _provider = new();

    [Fact]
    public void Parse_TitleOnly_LeavesEverythingAloneAndDetectsTheManager()
    {
        var spec = ParseOk<ServiceSpec>(_provider, Resource("service", "cvg-demo"));
        spec.Name.ShouldBe("cvg-demo");
        spec.Ensure.ShouldBeNull();
        spec.Enable.ShouldBeNull();
        spec.Refresh.ShouldBe(ServiceRefresh.Restart);
        spec.Provider.ShouldBeNull();
    }

    [Fact]
    public void Parse_EveryProperty_Typed()
    {
        var spec = ParseOk<ServiceSpec>(_provider, Resource("service", "getty@tty1",
            ("ensure", "stopped"), ("enable", "false"), ("refresh", "reload"), ("provider", "sysv")));
        spec.Ensure.ShouldBe(ServiceEnsure.Stopped);
        spec.Enable.ShouldBe(false);
        spec.Refresh.ShouldBe(ServiceRefresh.Reload);
        spec.Provider.ShouldBe("sysv");
    }

    [Theory]
    [InlineData("ensure", "runing", "CVG4006", "ensure must be one of running, stopped; got runing; did you mean 'running'?")]
    [InlineData("enable", "yes", "CVG4005", "enable must be true or false")]
    [InlineData("refresh", "restrat", "CVG4006", "refresh must be one of restart, reload")]
    [InlineData("provider", "upstart", "CVG4161", "unknown service provider 'upstart'; this build has runit, sysv, systemd")]
    public void Parse_BadValue_ErrorAtTheValue(string key, string value, string code, string message)
    {
        var (spec, errors) = Parse<ServiceSpec>(_provider, Resource("service", "cvg-demo", (key, value)));
        spec.ShouldBeNull();
        var error = errors.ShouldHaveSingleItem();
        error.ShouldStartWith($"site.yaml:2:{5 + key.Length}:");
        error.ShouldContain(code);
        error.ShouldContain(message);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("-x")]
    [InlineData("")]
    public void Parse_BadName_CVG4160AtTheTitle(string name)
    {
        var (spec, errors) = Parse<ServiceSpec>(_provider, Resource("service", name));
        spec.ShouldBeNull();
        errors.ShouldHaveSingleItem().ShouldContain("CVG4160");
    }

    [Fact]
    public void AutoRequires_PackageAndEveryManagersDefinition()
    {
        var spec = ParseOk<ServiceSpec>(_provider, Resource("service", "nginx"));
        _provider.AutoRequires(spec).Select(a => a.FirstOf.Single().ToString()).ShouldBe(
            ["package[nginx]", "directory[/etc/sv/nginx]", "file[/etc/sv/nginx/run]", "file[/etc/init.d/nginx]", "file[/etc/systemd/system/nginx.service]"]);
        var systemd = ParseOk<ServiceSpec>(_provider, Resource("service", "nginx.service", ("provider", "systemd")));
        _provider.AutoRequires(systemd).Select(a => a.FirstOf.Single().ToString()).ShouldBe(["package[nginx.service]", "file[/etc/systemd/system/nginx.service]"]);
    }
}

public class ServiceDiffTests
{
    private readonly ServiceProvider _provider = new();

    private ServiceSpec Spec(params (string, object)[] properties) =>
        ParseOk<ServiceSpec>(_provider, Resource("service", "cvg-demo", properties));

    private static string Show(IReadOnlyList<Change> changes) =>
        string.Join("\n", changes.Select(c => $"{c.Property}: {c.From} -> {c.To}: {string.Join(' ', c.Argv ?? [])}"));

    [Fact]
    public void Diff_RunitStartAndEnable_LinkFirstThenUp()
    {
        var changes = _provider.Diff(Spec(("ensure", "running"), ("enable", "true")), new ServiceActual("runit", false, false));
        Show(changes).ShouldBe("""
            enable: false -> true: ln -s /etc/sv/cvg-demo /etc/service/cvg-demo
            ensure: stopped -> running: sv -v up cvg-demo
            """);
    }

    [Fact]
    public void Diff_RunitStopAndDisable_DownFirstThenUnlink()
    {
        var changes = _provider.Diff(Spec(("ensure", "stopped"), ("enable", "false")), new ServiceActual("runit", true, true));
        Show(changes).ShouldBe("""
            ensure: running -> stopped: sv -v down cvg-demo
            enable: true -> false: rm /etc/service/cvg-demo
            """);
    }

    [Fact]
    public void Diff_Converged_Empty() =>
        _provider.Diff(Spec(("ensure", "running"), ("enable", "true")), new ServiceActual("runit", true, true)).ShouldBeEmpty();

    [Fact]
    public void Diff_UnsetProperties_LeftAlone() =>
        _provider.Diff(Spec(), new ServiceActual("runit", true, false)).ShouldBeEmpty();

    [Fact]
    public void Diff_Sysv_InitScriptAndUpdateRcD()
    {
        Show(_provider.Diff(Spec(("ensure", "running"), ("enable", "true")), new ServiceActual("sysv", false, false))).ShouldBe("""
            enable: false -> true: update-rc.d cvg-demo defaults
            ensure: stopped -> running: /etc/init.d/cvg-demo start
            """);
        // Disabled earlier: the K links exist, so enable (defaults would do nothing).
        Show(_provider.Diff(Spec(("enable", "true")), new ServiceActual("sysv", false, false, HasRcLinks: true)))
            .ShouldBe("enable: false -> true: update-rc.d cvg-demo enable");
        // Only stray K links in rc0/1/6.d: enable refuses them and defaults keeps them, so remove first.
        Show(_provider.Diff(Spec(("enable", "true"), ("ensure", "running")), new ServiceActual("sysv", false, false, HasStrayRcLinks: true))).ShouldBe("""
            enable: false -> true: update-rc.d -f cvg-demo remove
            enable: false -> true: update-rc.d cvg-demo defaults
            ensure: stopped -> running: /etc/init.d/cvg-demo start
            """);
        Show(_provider.Diff(Spec(("ensure", "stopped"), ("enable", "false")), new ServiceActual("sysv", true, true))).ShouldBe("""
            ensure: running -> stopped: /etc/init.d/cvg-demo stop
            enable: true -> false: update-rc.d cvg-demo disable
            """);
    }

    [Fact]
    public void Diff_Systemd_Systemctl() =>
        Show(_provider.Diff(Spec(("ensure", "running"), ("enable", "true")), new ServiceActual("systemd", false, false))).ShouldBe("""
            enable: false -> true: systemctl enable cvg-demo
            ensure: stopped -> running: systemctl start cvg-demo
            """);

    [Fact]
    public void Diff_SystemdUnitChangedOnDisk_DaemonReloadFirst() =>
        Show(_provider.Diff(Spec(("ensure", "running"), ("enable", "true")), new ServiceActual("systemd", false, false, NeedsDaemonReload: true))).ShouldBe("""
            enable: false -> true: systemctl daemon-reload
            enable: false -> true: systemctl enable cvg-demo
            ensure: stopped -> running: systemctl start cvg-demo
            """);

    [Fact]
    public void Diff_SystemdUnitChangedOnDisk_NothingElseToChange_NoReload() =>
        _provider.Diff(Spec(("ensure", "running")), new ServiceActual("systemd", true, false, NeedsDaemonReload: true)).ShouldBeEmpty();

    [Theory]
    [InlineData("runit", "restart", "sv restart cvg-demo")]
    [InlineData("runit", "reload", "sv reload cvg-demo")]
    [InlineData("sysv", "restart", "/etc/init.d/cvg-demo restart")]
    [InlineData("sysv", "reload", "/etc/init.d/cvg-demo reload")]
    [InlineData("systemd", "restart", "systemctl daemon-reload; systemctl restart cvg-demo")]
    [InlineData("systemd", "reload", "systemctl daemon-reload; systemctl reload cvg-demo")]
    public void PlanRefresh_TheArgvOfTheManager(string provider, string refresh, string argv)
    {
        _provider.IsRefreshable.ShouldBeTrue();
        var changes = _provider.PlanRefresh(Spec(("refresh", refresh), ("provider", provider)));
        string.Join("; ", changes.Select(c => string.Join(' ', c.Argv!))).ShouldBe(argv);
        changes.ShouldAllBe(c => c.Property == "refresh" && c.To == (refresh == "reload" ? "reloaded" : "restarted"));
    }

    [Fact]
    public void ChangesCoverRefresh_StartOrStopDoes_EnableAloneDoesNot()
    {
        var spec = Spec(("ensure", "running"), ("enable", "true"));
        _provider.ChangesCoverRefresh(spec, _provider.Diff(spec, new ServiceActual("systemd", false, true))).ShouldBeTrue("a start runs the new configuration");
        _provider.ChangesCoverRefresh(spec, _provider.Diff(spec, new ServiceActual("systemd", false, false))).ShouldBeTrue();
        _provider.ChangesCoverRefresh(spec, _provider.Diff(spec, new ServiceActual("systemd", true, false))).ShouldBeFalse("enabled, but still running the old configuration");
        var stopped = Spec(("ensure", "stopped"));
        _provider.ChangesCoverRefresh(stopped, _provider.Diff(stopped, new ServiceActual("systemd", true, true))).ShouldBeTrue("a stopped service needs no restart");
        _provider.ChangesCoverRefresh(spec, []).ShouldBeFalse();
    }

    [Fact]
    public void PlanRefresh_DetectedManager_NoArgvBeforeARead() =>
        _provider.PlanRefresh(Spec()).ShouldHaveSingleItem().ShouldBe(new Change("refresh", null, "restarted"));

    [Fact]
    public void RunitStatus_RunMeansRunning()
    {
        ServiceManagers.RunitStatusIsRunning("run: cvg-demo: (pid 42) 3s; run: log: (pid 41) 3s\n").ShouldBeTrue();
        ServiceManagers.RunitStatusIsRunning("down: cvg-demo: 2s, normally up\n").ShouldBeFalse();
        ServiceManagers.RunitStatusIsRunning("warning: cvg-demo: unable to open supervise/ok: file does not exist\n").ShouldBeFalse();
    }

    [Fact]
    public void SystemdShow_ParsedByKey_InWhateverOrderSystemdPrints()
    {
        ServiceManagers.ParseSystemdShow("NeedDaemonReload=yes\nActiveState=active\nUnitFileState=static\n")
            .ShouldBe((true, "static", true));
        ServiceManagers.ParseSystemdShow("ActiveState=activating\nUnitFileState=\nNeedDaemonReload=no\n")
            .ShouldBe((false, "", false));
    }

    [Theory]
    [InlineData("enabled", true, false)]
    [InlineData("enabled-runtime", true, false)]
    [InlineData("static", true, true)]
    [InlineData("indirect", true, true)]
    [InlineData("generated", true, true)]
    [InlineData("disabled", false, false)]
    [InlineData("masked", false, false)]
    public void SystemdState_StaticUnitsCountAsEnabled_AndCannotBeDisabled(string state, bool enabled, bool cannotDisable)
    {
        ServiceManagers.SystemdStateIsEnabled(state).ShouldBe(enabled);
        ServiceManagers.SystemdStateCannotBeDisabled(state).ShouldBe(cannotDisable);
    }

    [Fact]
    public void SysvLinks_SInMultiUserLevelsIsEnabled()
    {
        var dirs = new Dictionary<string, IReadOnlyList<string>>
        {
            ["/etc/rc2.d"] = ["S01cvg-demo", "S01other"],
            ["/etc/rc0.d"] = ["K01cvg-demo"],
        };
        IReadOnlyList<string> List(string d) => dirs.GetValueOrDefault(d, []);
        ServiceManagers.SysvLinks(List, "cvg-demo").ShouldBe((true, true, false));
        dirs["/etc/rc2.d"] = ["K01cvg-demo"];
        ServiceManagers.SysvLinks(List, "cvg-demo").ShouldBe((false, true, false));
        ServiceManagers.SysvLinks(List, "nginx").ShouldBe((false, false, false));
        // Only the stop levels' K links left: stray, nothing update-rc.d enable could toggle.
        dirs["/etc/rc2.d"] = ["S01other"];
        ServiceManagers.SysvLinks(List, "cvg-demo").ShouldBe((false, false, true));
    }
}

public class ServiceDetectTests
{
    [Theory]
    [InlineData("systemd\n", new string[0], "systemd")]
    [InlineData("init\n", new[] { "/etc/service", "/usr/bin/runsvdir" }, "runit")]
    [InlineData("runit\n", new[] { "/etc/sv", "/usr/bin/runsvdir" }, "runit")]
    [InlineData("init\n", new[] { "/etc/service" }, "sysv")]
    [InlineData("init\n", new[] { "/usr/bin/runsvdir" }, "sysv")]
    public void Detect_OnePlaceDecides(string comm, string[] paths, string expected) =>
        ServiceManagers.Detect(new PathsSystem(comm, paths)).ShouldBe(expected);

    /// <summary>A host that has exactly these paths (and /proc/1/comm with this content).</summary>
    private sealed class PathsSystem(string comm, string[] paths) : ISystem
    {
        private static readonly FileStatus Present = new(FileKind.Directory, new UnixMode(493), 0, 0, 0, null);
        public FileStatus? Stat(string path) => path == "/proc/1/comm" || paths.Contains(path) ? Present : null;
        public byte[] ReadAllBytes(string path) => path == "/proc/1/comm" ? System.Text.Encoding.UTF8.GetBytes(comm) : throw new FileNotFoundException(path);
        public IReadOnlyList<string> ListDirectory(string path) => throw new NotSupportedException();
        public void WriteFileAtomic(string path, ReadOnlySpan<byte> content, Machine.FileAttributes attributes) => throw new NotSupportedException();
        public void CreateDirectory(string path, Machine.FileAttributes attributes) => throw new NotSupportedException();
        public void CreateSymlink(string path, string target) => throw new NotSupportedException();
        public void SyncDirectories() => throw new NotSupportedException();
        public void SetMode(string path, UnixMode mode) => throw new NotSupportedException();
        public void SetOwner(string path, int? u, int? g) => throw new NotSupportedException();
        public void DeleteFile(string path) => throw new NotSupportedException();
        public void DeleteDirectory(string path, bool recursive) => throw new NotSupportedException();
        public Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct) => throw new NotSupportedException();
        public IUserDatabase Users => throw new NotSupportedException();
    }
}
