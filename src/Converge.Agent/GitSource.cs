using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using Converge.Reporting;

namespace Converge.Agent;

/// <summary>What a git command printed and returned.</summary>
public sealed record GitResult(int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public bool Ok => ExitCode == 0 && !TimedOut;

    /// <summary>The last lines of stderr, for a one-line log message.</summary>
    public string ErrorTail
    {
        get
        {
            if (TimedOut) return "timed out";
            var lines = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.Length == 0 ? $"git exited {ExitCode}" : string.Join("; ", lines.TakeLast(3));
        }
    }
}

/// <summary>
/// The manifest repository as the agent keeps it: a bare cache in <c>STATE/agent/repo.git</c>, fetched
/// from the source with the real <c>git</c> client (so any URL, credential helper or SSH setup git
/// knows works), and one exported tree per revision in <c>STATE/agent/revisions/COMMIT/</c>. A
/// revision's tree is written once, to a temp directory renamed into place, so a tree that exists is
/// complete; the last good revision's tree stays there for as long as it is needed as a fallback.
/// </summary>
public sealed class GitSource(AgentOptions options)
{
    private readonly string _agentDir = System.IO.Path.Combine(options.StateDir, "agent");

    public string RepoDir => System.IO.Path.Combine(_agentDir, "repo.git");
    public string RevisionsDir => System.IO.Path.Combine(_agentDir, "revisions");

    /// <summary>
    /// Fetches the branch (and tags, for a pinned revision) into the cache. Returns null on success, else
    /// why not (git's own words). Never throws for an unreachable source: the caller falls back to the cache.
    /// </summary>
    public async Task<string?> FetchAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_agentDir);
        if (!File.Exists(System.IO.Path.Combine(RepoDir, "HEAD")))
        {
            var init = await GitAsync(["init", "--quiet", "--bare", RepoDir], null, TimeSpan.FromMinutes(1), ct);
            if (!init.Ok) return "git init failed: " + init.ErrorTail;
        }
        List<string> args = ["fetch", "--quiet", "--no-tags", "--force", "--prune", options.Source,
            $"+refs/heads/{options.Branch}:refs/heads/{options.Branch}"];
        if (options.Revision is not null) args.Add("+refs/tags/*:refs/tags/*");
        var fetch = await GitAsync(args, RepoDir, options.FetchTimeout, ct);
        return fetch.Ok ? null : fetch.ErrorTail;
    }

    /// <summary>The full commit id the agent should converge (pinned revision, else the branch head) as cached, or null when unknown.</summary>
    public async Task<string?> ResolveAsync(CancellationToken ct)
    {
        if (!File.Exists(System.IO.Path.Combine(RepoDir, "HEAD"))) return null;
        var rev = options.Revision ?? $"refs/heads/{options.Branch}";
        var r = await GitAsync(["rev-parse", "--verify", "--quiet", rev + "^{commit}"], RepoDir, TimeSpan.FromMinutes(1), ct);
        return r.Ok ? r.Stdout.Trim() : null;
    }

    /// <summary>Who made <paramref name="commit"/>, when and why (the report's revision block).</summary>
    public async Task<Revision> DescribeAsync(string commit, CancellationToken ct)
    {
        var r = await GitAsync(["log", "-1", "--format=%H%x1f%an <%ae>%x1f%s%x1f%cI%x1f%cn <%ce>", commit], RepoDir, TimeSpan.FromMinutes(1), ct);
        var parts = r.Ok ? r.Stdout.TrimEnd('\n').Split('\x1f') : [];
        if (parts.Length < 4) return new Revision(commit, null, null, null, Dirty: false);
        DateTimeOffset? date = DateTimeOffset.TryParse(parts[3], CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
        return new Revision(parts[0], parts[1], parts[2], date, Dirty: false) { Committer = parts.Length > 4 ? parts[4] : null };
    }

    /// <summary>
    /// Checks the commit's signature against the keyring with <c>git verify-commit</c>. Returns null when
    /// it is signed by a trusted key, else git's (and gpg's) reason.
    /// </summary>
    public async Task<string?> VerifyAsync(string commit, CancellationToken ct)
    {
        // A keyring that is a file is an SSH allowed-signers file (git's gpg.format=ssh signatures);
        // a directory is a GnuPG home with the trusted public keys.
        var sshSigners = options.Keyring is not null && File.Exists(options.Keyring);
        var env = options.Keyring is null || sshSigners ? null : new Dictionary<string, string> { ["GNUPGHOME"] = options.Keyring };
        string[] args = sshSigners ? ["-c", $"gpg.ssh.allowedSignersFile={options.Keyring}", "verify-commit", commit] : ["verify-commit", commit];
        var r = await GitAsync(args, RepoDir, TimeSpan.FromMinutes(1), ct, env);
        return r.Ok ? null : "signature not verified: " + r.ErrorTail;
    }

    /// <summary>
    /// The directory holding the tree of <paramref name="commit"/>, exported (with <c>git archive</c>) if
    /// it is not there yet. The manifest path inside it is <see cref="AgentOptions.Path"/>.
    /// </summary>
    public async Task<string> ExportAsync(string commit, CancellationToken ct)
    {
        var target = System.IO.Path.Combine(RevisionsDir, commit);
        if (Directory.Exists(target)) return target;
        Directory.CreateDirectory(RevisionsDir);
        var temp = System.IO.Path.Combine(RevisionsDir, $".{commit}.{Environment.ProcessId}.tmp");
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        try
        {
            var psi = Psi(["archive", "--format=tar", commit], RepoDir);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync(ct);
            await TarFile.ExtractToDirectoryAsync(p.StandardOutput.BaseStream, temp, overwriteFiles: false, ct);
            await p.WaitForExitAsync(ct);
            if (p.ExitCode != 0) throw new IOException($"git archive {commit} failed: {(await stderr).Trim()}");
            Directory.Move(temp, target);
            return target;
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>Removes exported trees other than <paramref name="keep"/> (and half-written temp ones of dead runs).</summary>
    public void PruneExports(IEnumerable<string?> keep)
    {
        if (!Directory.Exists(RevisionsDir)) return;
        var wanted = keep.Where(k => k is not null).ToHashSet(StringComparer.Ordinal);
        foreach (var dir in Directory.GetDirectories(RevisionsDir))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (wanted.Contains(name)) continue;
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    private ProcessStartInfo Psi(IEnumerable<string> args, string? gitDir, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (gitDir is not null)
        {
            psi.ArgumentList.Add("--git-dir");
            psi.ArgumentList.Add(gitDir);
        }
        // The cache belongs to root while a source may belong to anyone: without this git refuses "dubious ownership".
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("safe.directory=*");
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Unattended: never wait for a password on a terminal; an SSH source must have its key set up.
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_SSH_COMMAND"] = Environment.GetEnvironmentVariable("GIT_SSH_COMMAND") ?? "ssh -o BatchMode=yes";
        psi.Environment["LC_ALL"] = "C";
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    private async Task<GitResult> GitAsync(IEnumerable<string> args, string? gitDir, TimeSpan timeout, CancellationToken ct,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = Psi(args, gitDir, env);
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new GitResult(127, "", $"cannot run git: {e.Message} (install git)", false);
        }
        using (p)
        {
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            try
            {
                await p.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                await p.WaitForExitAsync(CancellationToken.None);
                ct.ThrowIfCancellationRequested();
                return new GitResult(-1, await stdout, await stderr, TimedOut: true);
            }
            return new GitResult(p.ExitCode, await stdout, await stderr, false);
        }
    }
}
