using Converge.Manifests.Diagnostics;
using Converge.Testing;

namespace Converge.Notify.Tests;

/// <summary>
/// converge.yaml and its notify: block, pinned as golden files: every mistake with file:line:col and a
/// code, all at once; never a source excerpt, never a URL or header value (they hold tokens).
/// </summary>
public class ConfigTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Golden.CasesDirectory(), "config")).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Load_GoldenCase_MatchesExpected(string name)
    {
        var dir = Path.Combine(Golden.CasesDirectory(), "config", name);
        var file = Path.Combine(dir, "converge.yaml");
        var diagnostics = new DiagnosticBag();
        var config = ConvergeConfigFile.Load(file, diagnostics);
        var renderer = DiagnosticRenderer.ForFiles();
        var text = string.Join("\n", diagnostics.Sorted().Select(d => renderer.Render(d))).Replace(dir + "/", "");
        if (config is null)
        {
            diagnostics.HasErrors.ShouldBeTrue();
            Golden.Verify($"config/{name}/errors.txt", text + "\n");
        }
        else
        {
            text.ShouldBeEmpty();
            Golden.Verify($"config/{name}/expected.txt", Describe(config.Notify) + Describe(config.Retention));
        }
        // Tokens in URLs and headers of the cases: never shown, whatever is wrong.
        foreach (var secret in new[] { "tok3n", "s3cret", "XXXX", "Bearer abc" })
            text.ShouldNotContain(secret);
    }

    private static string Describe(RetentionConfig r)
        => $"retention reports keep={r.ReportsKeep} max_age={r.ReportsMaxAge.TotalHours} h; " +
           $"bucket versions_per_path={r.BucketVersionsPerPath} max_age={r.BucketMaxAge.TotalHours} h max_size={r.BucketMaxSize} B\n";

    private static string Describe(NotifyConfig c)
    {
        var lines = new List<string> { $"deadline: {c.Deadline.TotalSeconds} s" };
        foreach (var h in c.Webhooks)
            lines.Add($"webhook {h.Url} format={h.Format} on={h.On} noop={h.Noop} timeout={h.Timeout.TotalMilliseconds} ms retries={h.Retries} " +
                      $"headers=[{string.Join(",", h.Headers.Keys)}] link={h.Link ?? "(none)"} display={h.Display}");
        if (c.Graphite is { } g) lines.Add($"graphite {g.Host}:{g.Port} prefix={g.Prefix} timeout={g.Timeout.TotalSeconds} s noop={g.Noop}");
        return string.Join("\n", lines) + "\n";
    }

    [Fact]
    public void Load_DefaultPathMissing_IsNoNotifications()
    {
        using var dir = new TempDir();
        var diagnostics = new DiagnosticBag();
        var config = ConvergeConfigFile.Load(null, diagnostics, defaultPath: dir["converge.yaml"]);
        config.ShouldNotBeNull().ShouldBe(ConvergeConfig.Empty);
        diagnostics.Count.ShouldBe(0);
    }

    [Fact]
    public void Load_DefaultPathUnreadable_WarnsAndRunsWithoutNotifications()
    {
        // /proc/self/mem exists but cannot be read from offset 0 (EIO): as a 0600 file is for an ordinary user.
        var diagnostics = new DiagnosticBag();
        ConvergeConfigFile.Load(null, diagnostics, defaultPath: "/proc/self/mem").ShouldNotBeNull().ShouldBe(ConvergeConfig.Empty);
        var d = diagnostics.Sorted().Single();
        d.Severity.ShouldBe(Severity.Warning);
        d.Code.ShouldBe(ConvergeConfigFile.Unreadable);
        d.Message.ShouldEndWith("; running without notifications and with the default retention");
        ConvergeConfigFile.Load("/proc/self/mem", new DiagnosticBag()).ShouldBeNull("named explicitly, it must be readable");
    }

    [Fact]
    public void Load_ExplicitPathMissing_IsAnError()
    {
        using var dir = new TempDir();
        var diagnostics = new DiagnosticBag();
        ConvergeConfigFile.Load(dir["nope.yaml"], diagnostics).ShouldBeNull();
        var d = diagnostics.Sorted().Single();
        d.Code.ShouldBe(ConvergeConfigFile.Unreadable);
        d.Message.ShouldStartWith($"cannot read the converge config {dir["nope.yaml"]}: ");
    }

    [Fact]
    public void Load_EmptyFile_IsNoNotifications()
    {
        using var dir = new TempDir();
        var diagnostics = new DiagnosticBag();
        ConvergeConfigFile.Load(dir.Write("converge.yaml", ""), diagnostics).ShouldNotBeNull().ShouldBe(ConvergeConfig.Empty);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2000)]
    [InlineData("1.5", 1500)]
    [InlineData("1m", 60000)]
    public void TryDuration_Forms_Parse(string text, double ms)
    {
        NotifyConfigReader.TryDuration(text, out var t).ShouldBeTrue();
        t.TotalMilliseconds.ShouldBe(ms);
    }

    [Theory]
    [InlineData("90m", 90 * 60)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("30d", 30 * 86400)]
    [InlineData("1.5d", 36 * 3600)]
    [InlineData("2w", 14 * 86400)]
    public void TryAge_Forms_Parse(string text, double seconds)
    {
        RetentionConfigReader.TryAge(text, out var t).ShouldBeTrue();
        t.TotalSeconds.ShouldBe(seconds);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("3651d")]
    [InlineData("1y")]
    [InlineData("d")]
    public void TryAge_BadForms_AreRefused(string text) => RetentionConfigReader.TryAge(text, out _).ShouldBeFalse();

    [Theory]
    [InlineData("4096B", 4096L)]
    [InlineData("64KiB", 65536L)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("2TiB", 2L << 40)]
    public void TrySize_Forms_Parse(string text, long bytes)
    {
        RetentionConfigReader.TrySize(text, out var b).ShouldBeTrue();
        b.ShouldBe(bytes);
    }

    [Theory]
    [InlineData("1GB")]
    [InlineData("1024")]
    [InlineData("0MiB")]
    [InlineData("MiB")]
    [InlineData("-5MiB")]
    public void TrySize_BadForms_AreRefused(string text) => RetentionConfigReader.TrySize(text, out _).ShouldBeFalse();
}
