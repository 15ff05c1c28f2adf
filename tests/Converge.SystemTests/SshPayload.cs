using System.Security.Cryptography;
using Converge.Testing;
using Converge.Testing.Hosts;

namespace Converge.SystemTests;

/// <summary>
/// The self-contained single-file converge that <c>converge ssh</c> ships to test hosts (which have no
/// dotnet). Published once from this source tree into <c>out/payload/linux-x64/</c> and reused while
/// the build it came from is unchanged (a key over the built assemblies). <c>$CONVERGE_PAYLOAD_DIR</c>
/// overrides it with a ready build.
/// </summary>
public static class SshPayload
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _dir;

    /// <summary>The directory to pass as <c>--payload-dir</c> (holding <c>linux-x64/converge</c>).</summary>
    public static async Task<string> DirectoryAsync()
    {
        if (Environment.GetEnvironmentVariable("CONVERGE_PAYLOAD_DIR") is { Length: > 0 } env) return env;
        await Gate.WaitAsync();
        try
        {
            if (_dir is not null) return _dir;
            var exeDir = Path.GetDirectoryName(ConvergeProcess.ExecutablePath)!;
            var repo = new DirectoryInfo(exeDir);
            while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "Converge.sln"))) repo = repo.Parent;
            if (repo is null) throw new InvalidOperationException($"no source tree above {exeDir} to publish the payload from");
            var root = Path.Combine(repo.FullName, "out", "payload");
            var target = Path.Combine(root, "linux-x64");
            // The key: every assembly of the build under test, so a code change publishes again.
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var dll in Directory.GetFiles(exeDir, "Converge.*.dll").Append(Path.Combine(exeDir, "converge.dll")).Order(StringComparer.Ordinal))
                sha.AppendData(await File.ReadAllBytesAsync(dll));
            var key = Convert.ToHexStringLower(sha.GetHashAndReset());
            var keyFile = Path.Combine(target, ".build-key");
            if (!File.Exists(keyFile) || await File.ReadAllTextAsync(keyFile) != key || !File.Exists(Path.Combine(target, "converge")))
            {
                var publish = await MachineCommand.RunAsync(
                    ["dotnet", "publish", Path.Combine(repo.FullName, "src", "Converge.Cli"), "-c", "Release", "-r", "linux-x64", "--self-contained",
                     "-p:PublishSingleFile=true", "-o", target, "-nologo", "-v", "q"], timeout: TimeSpan.FromMinutes(15),
                    // The test host's MSBuild settings would steer the nested build to the wrong SDK paths.
                    environment: new Dictionary<string, string?> { ["MSBuildExtensionsPath"] = null, ["MSBUILD_EXE_PATH"] = null, ["MSBuildSDKsPath"] = null });
                if (publish.ExitCode != 0) throw new InvalidOperationException("publishing the payload failed:\n" + publish);
                await File.WriteAllTextAsync(keyFile, key);
            }
            return _dir = root;
        }
        finally { Gate.Release(); }
    }
}
