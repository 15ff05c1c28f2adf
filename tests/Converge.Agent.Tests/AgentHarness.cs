using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Agent.Tests;

/// <summary>
/// A real git setup in a temp dir: a bare "server" repository and a work clone the test commits to as
/// different authors. Everything (including the files the manifests manage) lives under one TempDir.
/// </summary>
public sealed class GitRemote : IDisposable
{
    private readonly TempDir _dir = new("converge-agent-");

    public GitRemote()
    {
        Git(_dir.Path, "init", "--quiet", "--bare", "--initial-branch=main", Remote);
        Git(_dir.Path, "init", "--quiet", "--initial-branch=main", Work);
        Directory.CreateDirectory(Out);
    }

    public string Root => _dir.Path;
    public string Remote => _dir["remote.git"];
    public string Work => _dir["work"];
    public string State => _dir["state"];

    /// <summary>Where the test manifests put the files they manage.</summary>
    public string Out => _dir["out"];

    public string this[string relative] => _dir[relative];

    /// <summary>Writes site.yaml, commits it as <paramref name="author"/> and pushes; returns the commit id.</summary>
    public string Commit(string siteYaml, string message, string author = "alice", string? sshKey = null)
    {
        File.WriteAllText(Path.Combine(Work, "site.yaml"), siteYaml);
        Git(Work, "add", "-A");
        string[] sign = sshKey is null ? [] : ["-c", "gpg.format=ssh", "-c", $"user.signingkey={sshKey}", "-c", "commit.gpgsign=true"];
        Git(Work, [.. sign, "-c", $"user.name={author}", "-c", $"user.email={author}@example.com", "commit", "--quiet", "-m", message]);
        Git(Work, "push", "--quiet", Remote, "main");
        return Git(Work, "rev-parse", "HEAD").Trim();
    }

    /// <summary>Writes files at paths relative to the repository, commits and pushes them; returns the commit id.</summary>
    public string CommitFiles(string message, params (string Path, string Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(Work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        Git(Work, "add", "-A");
        Git(Work, "-c", "user.name=alice", "-c", "user.email=alice@example.com", "commit", "--quiet", "-m", message);
        Git(Work, "push", "--quiet", Remote, "main");
        return Git(Work, "rev-parse", "HEAD").Trim();
    }

    /// <summary>Tags HEAD and pushes the tag.</summary>
    public void Tag(string name)
    {
        Git(Work, "tag", name);
        Git(Work, "push", "--quiet", Remote, "refs/tags/" + name);
    }

    /// <summary>A manifest of plain files under <see cref="Out"/>: name → content.</summary>
    public string Files(params (string Name, string Content)[] files)
        => "resources:\n" + string.Concat(files.Select(f => $"  - file: {Out}/{f.Name}\n    content: \"{f.Content}\\n\"\n"));

    public string Read(string name) => File.Exists(Path.Combine(Out, name)) ? File.ReadAllText(Path.Combine(Out, name)) : "(missing)";

    public JsonObject? LastRun()
    {
        try { return JsonNode.Parse(File.ReadAllText(Path.Combine(State, "last_run.json"))) as JsonObject; }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException) { return null; }
    }

    public static string Git(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["HOME"] = cwd; // no user config leaks into the test
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {error}");
        return output.Result;
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// A running <c>converge agent</c> process (the built executable). Its log lines are collected as they
/// arrive; the test waits for observable effects and sends real signals.
/// </summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public AgentProcess(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(ConvergeProcess.ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment.Remove("CONVERGE_STATE_DIR");
        psi.Environment.Remove("CONVERGE_FACTS_DIR");
        psi.Environment.Remove("NOTIFY_SOCKET"); // a test runner started by systemd must not make the agent notify it
        psi.Environment.Remove("INVOCATION_ID");
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;
    public string Log => string.Join("\n", _lines);
    public bool HasExited => _process.HasExited;

    public int Count(string text) => _lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public void Signal(PosixSignal signal)
    {
        var number = signal switch { PosixSignal.SIGHUP => 1, PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => throw new ArgumentOutOfRangeException(nameof(signal)) };
        kill(_process.Id, number).ShouldBe(0);
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) throw new TimeoutException($"the agent did not exit within {timeout}; log:\n{Log}");
        _process.WaitForExit(); // drain the output
        return _process.ExitCode;
    }

    /// <summary>Polls <paramref name="condition"/> until true; fails with the agent's log otherwise.</summary>
    public void WaitFor(Func<bool> condition, string what, double seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            if (condition()) return;
            if (_process.HasExited && !condition())
                throw new InvalidOperationException($"the agent exited ({_process.ExitCode}) before {what}; log:\n{Log}");
            Thread.Sleep(50);
        }
        throw new TimeoutException($"not within {seconds} s: {what}; log:\n{Log}");
    }

    /// <summary>Waits for a log line: the agent writes its files before the line reaches us through the pipe.</summary>
    public void WaitForLog(string text, double seconds = 20)
        => WaitFor(() => Log.Contains(text, StringComparison.Ordinal), $"the log line '{text}'", seconds);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
