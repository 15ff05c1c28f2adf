using Converge.Testing;

namespace Converge.Cli.Tests;

/// <summary>
/// Every kind of bad input, each a folder under Golden/errors with its manifests and the exact
/// errors.txt `converge validate` must print: all errors at once, with file:line:col, exit 1.
/// </summary>
public class ErrorGoldenTests
{
    public const string SecretValue = "s3cr3t-golden-token";

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Golden.CasesDirectory(), "errors")).Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(dir));
        return data;
    }

    private static ConvergeRun Run(string command, string caseName, string stateDir)
    {
        var errorsDir = Path.Combine(Golden.CasesDirectory(), "errors");
        return ConvergeProcess.Run([command, caseName, "--state-dir", stateDir], workingDirectory: errorsDir,
            environment: new Dictionary<string, string?> { ["GOLDEN_TEST_TOKEN"] = SecretValue, ["GOLDEN_TEST_NOT_SET"] = null });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_BadInput_PrintsEveryErrorWithPosition(string caseName)
    {
        using var state = new TempDir();
        var run = Run("validate", caseName, state.Path);
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stdout.ShouldBeEmpty();
        run.Stderr.ShouldNotContain(SecretValue);
        Golden.Verify($"errors/{caseName}/errors.txt", Golden.Scrub(run.Stderr, (Golden.RepositoryRoot(), "<repo>")));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_BadInput_TouchesNothing(string caseName)
    {
        using var state = new TempDir();
        var run = Run("apply", caseName, state.Path);
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stderr.ShouldNotContain(SecretValue);
        Directory.Exists("/tmp/converge-golden").ShouldBeFalse();
        Directory.EnumerateFileSystemEntries(state.Path).ShouldBeEmpty();
    }
}
