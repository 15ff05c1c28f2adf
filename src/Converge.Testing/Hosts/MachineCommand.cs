using System.Diagnostics;

namespace Converge.Testing.Hosts;

/// <summary>
/// Runs a program on the machine itself (not in a host), for the few machine-side steps of the fixture:
/// <c>ip</c> for a host's link, <c>ssh-keygen</c> and <c>ssh</c> for the client side of a <see cref="Fleet"/>.
/// </summary>
public static class MachineCommand
{
    public static async Task<HostCommandResult> RunAsync(IReadOnlyList<string> argv, string? stdin = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        // The machine tools read nothing from the test runner's environment (DOTNET_*, a user's SSH_AUTH_SOCK).
        psi.Environment.Remove("SSH_AUTH_SOCK");
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{argv[0]} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        catch (IOException) { } // exited without reading its input
        var effective = timeout ?? TimeSpan.FromSeconds(60);
        using var limit = new CancellationTokenSource(effective);
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{string.Join(' ', argv)} did not finish within {effective.TotalSeconds:0.#} s");
        }
        return new HostCommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary><see cref="RunAsync"/> that throws with the command's output unless it exits 0.</summary>
    public static async Task<HostCommandResult> CheckAsync(IReadOnlyList<string> argv, string? stdin = null, TimeSpan? timeout = null)
    {
        var result = await RunAsync(argv, stdin, timeout);
        if (result.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', argv)} failed: {result}");
        return result;
    }
}
