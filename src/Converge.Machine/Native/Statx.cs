using System.Runtime.InteropServices;

namespace Converge.Machine.Native;

/// <summary>The fields of <c>struct statx</c> the seam uses.</summary>
internal readonly record struct StatxResult(
    uint Mode, int Uid, int Gid, long Size, ulong Inode, long MtimeSeconds, uint MtimeNanoseconds)
{
    private const uint S_IFMT = 0xF000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IFDIR = 0x4000;
    private const uint S_IFLNK = 0xA000;

    public FileKind Kind => (Mode & S_IFMT) switch
    {
        S_IFREG => FileKind.File,
        S_IFDIR => FileKind.Directory,
        S_IFLNK => FileKind.Symlink,
        _ => FileKind.Other,
    };

    public UnixMode Permissions => new((int)(Mode & 0xFFF));
}

/// <summary>
/// lstat through <c>statx(2)</c>. Its struct has the same layout on every architecture (unlike
/// <c>struct stat</c>), so fixed offsets are safe; the 256-byte buffer lives on the stack.
/// </summary>
internal static unsafe class Statx
{
    private const int BufferSize = 256;

    private const int AT_EMPTY_PATH = 0x1000;

    /// <summary>fstat's size of an open file; throws naming <paramref name="path"/> on failure.</summary>
    public static long SizeOf(int fd, string path)
    {
        byte* buffer = stackalloc byte[BufferSize];
        if (LibC.Statx(fd, "", AT_EMPTY_PATH, LibC.STATX_BASIC_STATS, buffer) != 0) throw Errno.Last("fstat", path);
        return (long)Read64(new ReadOnlySpan<byte>(buffer, BufferSize), 40);
    }

    /// <summary>lstat; false with <paramref name="errno"/> set when the call fails.</summary>
    public static bool TryLstat(string path, out StatxResult result, out int errno)
    {
        byte* buffer = stackalloc byte[BufferSize];
        int rc;
        do
        {
            rc = LibC.Statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, buffer);
            errno = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        } while (rc != 0 && errno == LibC.EINTR);

        if (rc != 0)
        {
            result = default;
            return false;
        }

        var span = new ReadOnlySpan<byte>(buffer, BufferSize);
        result = new StatxResult(
            Mode: MemoryMarshal.Read<ushort>(span[28..]),
            Uid: (int)Read32(span, 20),
            Gid: (int)Read32(span, 24),
            Size: (long)Read64(span, 40),
            Inode: Read64(span, 32),
            MtimeSeconds: (long)Read64(span, 112),
            MtimeNanoseconds: Read32(span, 120));
        return true;
    }

    // The struct is in native byte order; MemoryMarshal reads native order directly.
    private static uint Read32(ReadOnlySpan<byte> span, int offset) => MemoryMarshal.Read<uint>(span[offset..]);

    private static ulong Read64(ReadOnlySpan<byte> span, int offset) => MemoryMarshal.Read<ulong>(span[offset..]);
}
