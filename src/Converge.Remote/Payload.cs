using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Converge.Remote;

/// <summary>A self-contained single-file converge for one architecture, named on hosts by its sha256.</summary>
public sealed record Payload(string Rid, string Path, string Sha256, long Size)
{
    /// <summary>The file name in a host's cache directory: <c>converge-&lt;sha256&gt;</c>.</summary>
    public string CacheName => "converge-" + Sha256;
}

/// <summary>
/// Finds the converge build to ship to a host of a given architecture. For runtime id R
/// (<c>linux-x64</c>, <c>linux-arm64</c>) it looks, in order, at: <c>--payload-dir</c> (else
/// <c>$CONVERGE_PAYLOAD_DIR</c>) as <c>DIR/converge-R</c> or <c>DIR/R/converge</c>; then
/// <c>payload/converge-R</c> beside the running executable; then the running executable itself when it
/// is a self-contained single-file build for R. Hashes each file once per run.
/// </summary>
public sealed class PayloadLocator(string? payloadDir)
{
    private readonly ConcurrentDictionary<string, Lazy<Payload?>> _found = new(StringComparer.Ordinal);

    /// <summary>The runtime id for <c>uname -m</c>'s answer, or null for an architecture Converge is not built for.</summary>
    public static string? RidFor(string unameMachine) => unameMachine.Trim() switch
    {
        "x86_64" or "amd64" => "linux-x64",
        "aarch64" or "arm64" => "linux-arm64",
        _ => null,
    };

    /// <summary>Every place searched for <paramref name="rid"/>, in order (for the error when none has it).</summary>
    public IReadOnlyList<string> Candidates(string rid)
    {
        var list = new List<string>();
        if (payloadDir is not null)
        {
            list.Add(System.IO.Path.Combine(payloadDir, "converge-" + rid));
            list.Add(System.IO.Path.Combine(payloadDir, rid, "converge"));
        }
        list.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "payload", "converge-" + rid));
        if (RunningIsSelfContainedSingleFile && RuntimeInformation.RuntimeIdentifier == rid && Environment.ProcessPath is { } self)
            list.Add(self);
        return list;
    }

    /// <summary>The payload for <paramref name="rid"/>, or null when no candidate exists.</summary>
    public Payload? Find(string rid) => _found.GetOrAdd(rid, r => new Lazy<Payload?>(() =>
    {
        foreach (var path in Candidates(r))
        {
            if (!File.Exists(path)) continue;
            using var f = File.OpenRead(path);
            var sha = Convert.ToHexStringLower(SHA256.HashData(f));
            return new Payload(r, path, sha, f.Length);
        }
        return null;
    })).Value;

    /// <summary>
    /// True in a self-contained single-file build: the core library is then inside the executable and has
    /// no file of its own (in a framework-dependent build it comes from the shared framework).
    /// </summary>
#pragma warning disable IL3000 // the empty Location in a single-file app is exactly what is tested here
    public static bool RunningIsSelfContainedSingleFile => string.IsNullOrEmpty(typeof(object).Assembly.Location);
#pragma warning restore IL3000
}
