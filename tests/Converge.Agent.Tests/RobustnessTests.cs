using System.Diagnostics;
using System.Text.Json.Nodes;
using Converge.Testing;

namespace Converge.Agent.Tests;

/// <summary>The agent when things go wrong that are not the manifests' fault: a crashing cycle, unsigned commits.</summary>
public class RobustnessTests
{
    [Fact]
    public void Agent_CycleThrows_LogsRecordsAndGoesOn()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("a.txt", "survived")), "first");
        // A file where the agent keeps its exported trees: exporting throws, which nothing in the cycle expects.
        Directory.CreateDirectory(Path.Combine(git.State, "agent"));
        var blocker = Path.Combine(git.State, "agent", "revisions");
        File.WriteAllText(blocker, "in the way\n");

        using var agent = new AgentProcess(["agent", "--source", git.Remote, "--state-dir", git.State, "--interval", "1s"]);
        agent.WaitFor(() => git.LastRun() is { } r && (int?)r["exitCode"] == 4, "the crashed cycle recorded");
        var last = git.LastRun()!;
        ((string)last["errors"]![0]!).ShouldStartWith("unexpected error: ");
        agent.WaitFor(() => agent.Count("The agent cycle failed unexpectedly; the next cycle runs as scheduled") > 0, "the crash logged");
        agent.HasExited.ShouldBeFalse();

        File.Delete(blocker);
        agent.WaitFor(() => git.Read("a.txt") == "survived\n", "the next cycle converging");
        agent.WaitFor(() => (string?)git.LastRun()?["revision"] == c1, "the good run recorded");
    }

    /// <remarks>
    /// Signed with SSH keys (git's gpg.format=ssh): GnuPG would start a gpg-agent daemon that outlives
    /// the test. The agent runs the same <c>git verify-commit</c> for both kinds of keyring.
    /// </remarks>
    [Fact]
    public void Agent_VerifySignatures_ConvergesSignedCommitsAndRefusesUnsignedOnes()
    {
        using var git = new GitRemote();
        var key = git["ops_key"];
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ops@example.com", "-f", key);
        var signers = git["allowed_signers"];
        File.WriteAllText(signers, "ops@example.com " + File.ReadAllText(key + ".pub"));
        var agentArgs = new[] { "agent", "--once", "--source", git.Remote, "--state-dir", git.State, "--verify-signatures", "--keyring", signers };

        var signed = git.Commit(git.Files(("s.txt", "signed")), "signed by ops", author: "ops", sshKey: key);
        var first = ConvergeProcess.Run(agentArgs);
        first.ExitCode.ShouldBe(2, first.ToString());
        git.Read("s.txt").ShouldBe("signed\n");

        var unsigned = git.Commit(git.Files(("s.txt", "not signed")), "sneaky", author: "mallory");
        var second = ConvergeProcess.Run(agentArgs);
        second.ExitCode.ShouldBe(1, second.ToString());
        second.Stderr.ShouldContain($"Revision {unsigned[..7]} (author mallory, 'sneaky') is refused (signature)");
        git.Read("s.txt").ShouldBe("signed\n");
        var last = git.LastRun()!;
        ((string?)last["revision"]).ShouldBe(signed);
        ((string?)last["badRevision"]).ShouldBe(unsigned);
        ((string)last["fallbackReason"]!).ShouldBe($"fell back to the last good revision: {unsigned[..7]} is refused (signature)");

        // Signed, but by a key the keyring does not trust: refused too.
        var otherKey = git["other_key"];
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mallory@example.com", "-f", otherKey);
        var forged = git.Commit(git.Files(("s.txt", "forged")), "looks signed", author: "mallory", sshKey: otherKey);
        var third = ConvergeProcess.Run(agentArgs);
        third.ExitCode.ShouldBe(1, third.ToString());
        ((string?)git.LastRun()!["badRevision"]).ShouldBe(forged);
        git.Read("s.txt").ShouldBe("signed\n");
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {error}");
    }
}
