using System.Runtime.InteropServices;

namespace Converge.Machine.Native;

/// <summary>Small helpers over raw file descriptors, each retrying on EINTR.</summary>
internal static unsafe class FileDescriptor
{
    public static int Open(string path, int flags, uint mode, string operation)
    {
        while (true)
        {
            var fd = LibC.Open(path, flags, mode);
            if (fd >= 0) return fd;
            var errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.EINTR) throw Errno.For(errno, operation, path);
        }
    }

    public static void WriteAll(int fd, ReadOnlySpan<byte> content, string path)
    {
        fixed (byte* start = content)
        {
            var offset = 0;
            while (offset < content.Length)
            {
                var written = LibC.Write(fd, start + offset, (nuint)(content.Length - offset));
                if (written < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR) continue;
                    throw Errno.For(errno, "write", path);
                }
                offset += (int)written;
            }
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>'s length from offset 0; returns the count read.</summary>
    public static int ReadFromStart(int fd, Span<byte> buffer, string path)
    {
        fixed (byte* start = buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = LibC.PRead(fd, start + total, (nuint)(buffer.Length - total), total);
                if (read < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR) continue;
                    throw Errno.For(errno, "read", path);
                }
                if (read == 0) break;
                total += (int)read;
            }
            return total;
        }
    }

    /// <summary>
    /// The whole file in four syscalls (open, statx, read, close); File.ReadAllBytes adds a flock and
    /// an extra read, which shows when a run reads thousands of files. Files that report size 0
    /// (/proc, /sys) are read until end-of-file.
    /// </summary>
    public static byte[] ReadAll(string path)
    {
        var fd = Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0, "open");
        try
        {
            var size = Statx.SizeOf(fd, path);
            if (size > Array.MaxLength) throw new IOException($"read {path}: file is too large ({size} bytes)");
            if (size > 0)
            {
                var content = new byte[size];
                var read = ReadFromStart(fd, content, path);
                return read == content.Length ? content : content[..read]; // shrank while reading
            }
            var stream = new MemoryStream();
            var chunk = new byte[4096];
            while (true)
            {
                var n = ReadAt(fd, chunk, stream.Length, path);
                if (n == 0) return stream.ToArray();
                stream.Write(chunk, 0, n);
            }
        }
        finally
        {
            CloseQuietly(fd);
        }
    }

    private static int ReadAt(int fd, Span<byte> buffer, long offset, string path)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var read = LibC.PRead(fd, start, (nuint)buffer.Length, offset);
                if (read >= 0) return (int)read;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EINTR) throw Errno.For(errno, "read", path);
            }
        }
    }

    public static void Fsync(int fd, string path) => Errno.Check(LibC.FSync(fd), "fsync", path);

    /// <summary>Closes without throwing: used on cleanup paths, where the first error is the one to report.</summary>
    public static void CloseQuietly(int fd)
    {
        if (fd >= 0) LibC.Close(fd);
    }

    /// <summary>fsyncs a directory so a rename or create in it survives a crash.</summary>
    public static void FsyncDirectory(string directory)
    {
        var fd = Open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0, "open");
        try { Fsync(fd, directory); }
        finally { CloseQuietly(fd); }
    }
}
