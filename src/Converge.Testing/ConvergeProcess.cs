using System.Diagnostics;

namespace Converge.Testing;

/// <summary>What a run of the converge executable printed and returned.</summary>
public sealed record ConvergeRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the built <c>converge</c> executable as a separate process, as a user would: the CLI tests go
/// through argument parsing, exit codes and stdout/stderr exactly as they reach a shell.
/// </summary>
public static class ConvergeProcess
{
    private static readonly Lazy<string> Executable = new(Locate);

    public static string ExecutablePath => Executable.Value;

    public static ConvergeRun Run(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(Executable.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Deterministic output: no colours, no inherited state dir or facts dir.
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment.Remove("CONVERGE_STATE_DIR");
        psi.Environment.Remove("CONVERGE_FACTS_DIR");
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;

        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"converge {string.Join(' ', args)} did not finish in time");
        }
        return new ConvergeRun(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static ConvergeRun Run(params string[] args) => Run((IEnumerable<string>)args);

    // The executable built beside the tests: same configuration as the running test assembly.
    private static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("CONVERGE_EXE");
        if (!string.IsNullOrEmpty(env)) return env;
        var config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!File.Exists(System.IO.Path.Combine(d.FullName, "Converge.sln"))) continue;
            var exe = System.IO.Path.Combine(d.FullName, "src", "Converge.Cli", "bin", config, "net10.0", "converge");
            if (File.Exists(exe)) return exe;
            throw new FileNotFoundException($"build the CLI first: {exe} does not exist");
        }
        throw new DirectoryNotFoundException("Converge.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temp directory for one test, deleted with everything in it when disposed.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "converge-test-")
    {
        // Resolve symlinks (e.g. /tmp on some systems) so paths in output match what tests compute.
        Path = new DirectoryInfo(Directory.CreateTempSubdirectory(prefix).FullName).FullName;
    }

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes a file (creating parent directories) and returns its full path.</summary>
    public string Write(string relative, string content)
    {
        var full = this[relative];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
