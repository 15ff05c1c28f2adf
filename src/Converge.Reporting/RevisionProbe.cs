using System.Diagnostics;

namespace Converge.Reporting;

/// <summary>
/// Finds the git revision of a manifest path: commit, author, committer, subject, date, and whether the work tree
/// has uncommitted changes. Costs nothing when the path is not inside a git work tree (no process is
/// started), two git invocations when it is.
/// </summary>
public static class RevisionProbe
{
    public static Revision? Probe(string manifestPath)
    {
        var dir = Directory.Exists(manifestPath) ? manifestPath : Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        if (!InsideWorkTree(dir)) return null;
        var log = Git(dir, "log", "-1", "--format=%H%x1f%an <%ae>%x1f%s%x1f%cI%x1f%cn <%ce>");
        if (log is null) return null;
        var parts = log.TrimEnd('\n').Split('\x1f');
        if (parts.Length < 4) return null;
        var status = Git(dir, "status", "--porcelain", "--untracked-files=normal", "--", ".");
        DateTimeOffset? date = DateTimeOffset.TryParse(parts[3], System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out var d) ? d : null;
        return new Revision(parts[0], parts[1], parts[2], date, Dirty: !string.IsNullOrWhiteSpace(status))
        {
            Committer = parts.Length > 4 ? parts[4] : null,
        };
    }

    private static bool InsideWorkTree(string dir)
    {
        for (var d = new DirectoryInfo(Path.GetFullPath(dir)); d is not null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, ".git")) || File.Exists(Path.Combine(d.FullName, ".git")))
                return true;
        return false;
    }

    private static string? Git(string dir, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-C");
            psi.ArgumentList.Add(dir);
            // A manifest repo owned by another user is still ours to read (git refuses "dubious ownership" otherwise).
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("safe.directory=*");
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            if (!p.WaitForExit(10_000)) { p.Kill(true); return null; }
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed: the revision is simply unknown
        }
    }
}
