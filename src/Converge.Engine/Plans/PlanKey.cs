using System.Security.Cryptography;
using System.Text;

namespace Converge.Engine.Plans;

/// <summary>
/// The host's secret key for plan digests: 32 random bytes in <c>STATE/plan.key</c>, mode 0600, made on
/// first use and never printed. Plans are only ever checked on the host that made them, so the key never
/// has to leave it; whoever reads a plan file cannot test guesses of a secret against its digests.
/// </summary>
public sealed class PlanKey
{
    public const string FileName = "plan.key";

    private PlanKey(byte[] bytes)
    {
        Bytes = bytes;
        // The id names the key in the plan (a plan made under another state dir is refused by name,
        // not by a wall of differing digests); it is a hash of the key, so it reveals nothing.
        Id = Convert.ToHexString(SHA256.HashData([.. Encoding.ASCII.GetBytes("converge plan key id\n"), .. bytes]))[..16].ToLowerInvariant();
    }

    public byte[] Bytes { get; }

    /// <summary>A public name for this key (16 hex digits of a hash of it).</summary>
    public string Id { get; }

    /// <summary>A key for tests and in-memory use.</summary>
    public static PlanKey FromBytes(byte[] bytes) => new(bytes);

    /// <summary>
    /// Reads <c>STATE/plan.key</c>, or creates it (0600, written to a temp file and linked into place, so
    /// two runs racing to create it agree on one key). Throws IOException/UnauthorizedAccessException
    /// when the state directory cannot be used.
    /// </summary>
    public static PlanKey LoadOrCreate(string stateDir)
    {
        var path = Path.Combine(stateDir, FileName);
        if (File.Exists(path)) return Read(path);
        Directory.CreateDirectory(stateDir);
        var temp = Path.Combine(stateDir, $".{FileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, new FileStreamOptions
                   {
                       Mode = FileMode.CreateNew, Access = FileAccess.Write,
                       UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                   }))
            {
                fs.Write(RandomNumberGenerator.GetBytes(32));
                fs.Flush(flushToDisk: true);
            }
            try
            {
                File.Move(temp, path, overwrite: false); // rename(2) would replace a key another run just made
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another run made it first: use theirs.
            }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return Read(path);
    }

    private static PlanKey Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 32) throw new IOException($"{path}: plan key is damaged ({bytes.Length} bytes, expected 32); remove it to make a new one (plans made with it will then be refused)");
        return new PlanKey(bytes);
    }
}
