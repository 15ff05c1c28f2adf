using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace Converge.Testing;

/// <summary>
/// Golden files: expected output kept as plain files in the test tree, compared byte for byte after
/// scrubbing what legitimately varies (times, durations, temp paths, run ids). Set
/// <c>CONVERGE_UPDATE_GOLDEN=1</c> to rewrite them instead; review the git diff like code.
/// </summary>
public static partial class Golden
{
    public static bool Updating => Environment.GetEnvironmentVariable("CONVERGE_UPDATE_GOLDEN") == "1";

    /// <summary>
    /// Compares <paramref name="actual"/> with <c>&lt;test project&gt;/Golden/&lt;relativePath&gt;</c>.
    /// The test project directory is found from the caller's source path, so goldens live beside the tests.
    /// </summary>
    public static void Verify(string relativePath, string actual, [CallerFilePath] string callerFile = "")
    {
        var path = Path.Combine(ProjectDirectory(callerFile), "Golden", relativePath);
        if (Updating)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        if (!File.Exists(path))
            Assert.Fail($"golden file {path} does not exist; run with CONVERGE_UPDATE_GOLDEN=1 to create it. Actual:\n{actual}");
        var expected = File.ReadAllText(path);
        if (expected != actual)
            Assert.Fail($"output differs from golden file {path} (CONVERGE_UPDATE_GOLDEN=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}");
    }

    /// <summary>The directory of the golden cases (to enumerate inputs that live beside the expected outputs).</summary>
    public static string CasesDirectory([CallerFilePath] string callerFile = "") => Path.Combine(ProjectDirectory(callerFile), "Golden");

    /// <summary>
    /// Replaces what varies between runs: each given path with a placeholder, durations ("0.21 s",
    /// "12.5 ms"), ISO timestamps, run ids.
    /// </summary>
    public static string Scrub(string text, params (string Value, string Placeholder)[] replacements)
    {
        foreach (var (value, placeholder) in replacements.OrderByDescending(r => r.Value.Length))
            if (value.Length > 0) text = text.Replace(value, placeholder, StringComparison.Ordinal);
        text = Durations().Replace(text, "<duration>");
        text = Timestamps().Replace(text, "<time>");
        text = RunIds().Replace(text, "<run-id>");
        return text;
    }

    /// <summary>The repository root (where Converge.sln is), to scrub from output that names shipped modules.</summary>
    public static string RepositoryRoot([CallerFilePath] string callerFile = "")
    {
        for (var d = new DirectoryInfo(Path.GetDirectoryName(callerFile)!); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Converge.sln"))) return d.FullName;
        throw new InvalidOperationException($"Converge.sln not found above {callerFile}");
    }

    private static string ProjectDirectory(string callerFile)
    {
        for (var d = new DirectoryInfo(Path.GetDirectoryName(callerFile)!); d is not null; d = d.Parent)
            if (d.EnumerateFiles("*.csproj").Any()) return d.FullName;
        throw new InvalidOperationException($"no test project found above {callerFile}");
    }

    [GeneratedRegex(@"\b\d+(\.\d+)? (s|ms)\b")]
    private static partial Regex Durations();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")]
    private static partial Regex Timestamps();

    [GeneratedRegex(@"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b")]
    private static partial Regex RunIds();
}
