using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Converge.Testing;

namespace Converge.Agent.Tests;

/// <summary>
/// The agent as systemd runs it, without systemd: .NET decides it is a systemd service when its parent
/// process is called "systemd", and then speaks sd_notify on $NOTIFY_SOCKET. The test plays both parts:
/// a copy of /bin/sh named systemd as the parent, and a datagram socket it reads the notifications from.
/// </summary>
public class SystemdTests
{
    [Fact]
    public void Agent_UnderSystemd_NotifiesReadyAndStoppingAndLogsWithPriorities()
    {
        using var git = new GitRemote();
        var c1 = git.Commit(git.Files(("unit.txt", "from systemd")), "first");
        var fakeSystemd = git["systemd"];
        File.Copy("/bin/sh", fakeSystemd);
        File.SetUnixFileMode(fakeSystemd, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var socketPath = git["notify.sock"];
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        notify.ReceiveTimeout = 30_000;
        var pidFile = git["agent.pid"];
        var log = git["agent.log"];

        var psi = new ProcessStartInfo(fakeSystemd) { UseShellExecute = false, RedirectStandardInput = true };
        psi.ArgumentList.Add("-c");
        // Not exec: the shell must stay the agent's parent.
        psi.ArgumentList.Add("\"$0\" agent --source \"$1\" --state-dir \"$2\" --interval 10m 2>\"$3\" & echo $! > \"$4\"; wait $!");
        foreach (var a in new[] { ConvergeProcess.ExecutablePath, git.Remote, git.State, log, pidFile }) psi.ArgumentList.Add(a);
        psi.Environment["NOTIFY_SOCKET"] = socketPath;
        psi.Environment["NO_COLOR"] = "1";
        using var shell = Process.Start(psi)!;
        try
        {
            Receive(notify).ShouldBe("READY=1");
            var clock = Stopwatch.StartNew();
            while ((string?)git.LastRun()?["revision"] != c1 && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(50);
            git.Read("unit.txt").ShouldBe("from systemd\n");

            var agentPid = int.Parse(File.ReadAllText(pidFile).Trim());
            kill(agentPid, 15).ShouldBe(0);
            Receive(notify).ShouldBe("STOPPING=1");
            shell.WaitForExit(30_000).ShouldBeTrue();
            shell.ExitCode.ShouldBe(0);

            // journald reads the <N> prefix as the entry's priority; no timestamp of our own.
            var lines = File.ReadAllLines(log);
            var deploy = $"to {c1[..7]} (first run";
            lines.ShouldContain(l => l.StartsWith("<6>converged ", StringComparison.Ordinal) && l.Contains(deploy));
            lines.ShouldContain("<6>Converge agent stopped");
        }
        finally
        {
            if (!shell.HasExited) shell.Kill(entireProcessTree: true);
        }
    }

    private static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        var n = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n).Trim();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
