using System.Diagnostics;

namespace Converge.Testing.Hosts;

/// <summary>
/// Debian packages that hosts need but the machine lacks (runit, sudo, cron, openssh-server), fetched
/// once into a cache on the machine and installed only inside throwaway hosts. The machine's dpkg
/// database is never changed: <c>apt-get install --download-only</c> only resolves against it.
/// </summary>
/// <remarks>
/// The cache lives in <c>/var/cache/converge-test-debs</c> (override with <c>$CONVERGE_TEST_DEBS</c>), one
/// directory per package set, with a <c>.complete</c> marker written after a successful download. It is
/// part of <c>/</c>, so every host sees it at the same path through its overlay. Delete it to refetch
/// (e.g. after the machine's packages were upgraded and a cached dependency no longer matches).
/// </remarks>
public static class DebCache
{
    // apt-get refuses to run twice on one archives directory; tests of one process fetch in turn.
    private static readonly SemaphoreSlim FetchLock = new(1, 1);

    public static string Root => Environment.GetEnvironmentVariable("CONVERGE_TEST_DEBS") is { Length: > 0 } dir ? dir : "/var/cache/converge-test-debs";

    /// <summary>
    /// The directory holding <paramref name="packages"/> and the dependencies the machine lacks,
    /// downloading them the first time. Throws with apt's message when they cannot be fetched.
    /// </summary>
    public static async Task<string> FetchAsync(params string[] packages)
    {
        if (packages.Length == 0) throw new ArgumentException("no packages", nameof(packages));
        var names = packages.Order(StringComparer.Ordinal).ToArray();
        var dir = Path.Combine(Root, string.Join('+', names));
        var marker = Path.Combine(dir, ".complete");
        if (File.Exists(marker)) return dir;
        await FetchLock.WaitAsync();
        try
        {
            if (File.Exists(marker)) return dir;
            Directory.CreateDirectory(Path.Combine(dir, "partial"));
            var result = await Download(dir, names);
            // Package lists missing or stale on a fresh machine: refresh them once and retry.
            if (result.ExitCode != 0 && (await Apt(["update"])).ExitCode == 0)
                result = await Download(dir, names);
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"could not fetch {string.Join(", ", names)} into {dir}:\n{result}");
            await File.WriteAllTextAsync(marker, string.Join('\n', Directory.GetFiles(dir, "*.deb").Select(Path.GetFileName).Order()) + "\n");
            return dir;
        }
        finally
        {
            FetchLock.Release();
        }
    }

    /// <summary>
    /// Installs <paramref name="packages"/> (fetched with <see cref="FetchAsync"/>) inside
    /// <paramref name="host"/> with real apt and dpkg, from the cached files only (<c>--no-download</c>:
    /// hosts have no registry access; apt rather than a bare <c>dpkg -i</c> because it orders
    /// pre-dependencies, e.g. cron's on cron-daemon-common). A <c>policy-rc.d</c> that answers 101 is left in
    /// the host so no maintainer script starts a daemon: tests start services themselves. Tests that only
    /// need the packages present start the host with <see cref="HostOptions.Packages"/> instead (a cached layer).
    /// </summary>
    public static async Task InstallAsync(ThrowawayHost host, params string[] packages)
    {
        var dir = await FetchAsync(packages);
        await host.WriteFileAsync("/usr/sbin/policy-rc.d", "#!/bin/sh\n# converge test host: maintainer scripts never start daemons\nexit 101\n");
        // The same resolution as the download, with the cache as apt's archives directory (the host's copy
        // of it, through the overlay): apt finds every file it needs there and fetches nothing.
        var result = await host.RunAsync(["/bin/sh", "-c", "chmod 755 /usr/sbin/policy-rc.d && apt-get install --yes --no-download --no-install-recommends -o Dir::Cache::archives=\"$0\" -o Dpkg::Options::=--force-confold \"$@\"", dir, .. packages],
            new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" }, timeout: TimeSpan.FromMinutes(3));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"installing {string.Join(' ', packages)} failed in host {host.Options.Hostname}:\n{result}");
    }

    private static Task<HostCommandResult> Download(string dir, string[] names) =>
        Apt(["install", "--download-only", "--yes", "--no-install-recommends",
            "-o", "Dir::Cache::archives=" + dir, "-o", "DPkg::Lock::Timeout=60", .. names]);

    private static async Task<HostCommandResult> Apt(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("apt-get") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"apt-get {string.Join(' ', psi.ArgumentList)} did not finish in 5 minutes (no network?)");
        }
        return new HostCommandResult(process.ExitCode, await stdout, await stderr);
    }
}
