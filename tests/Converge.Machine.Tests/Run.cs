using System.Diagnostics;

namespace Converge.Machine.Tests;

/// <summary>Runs a helper command for a test's setup or checks (independent of the code under test).</summary>
internal static class Run
{
    public static string Output(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} exited {p.ExitCode}: {p.StandardError.ReadToEnd()}");
        return output.Trim();
    }

    public static int ExitCode(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
