using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Converge.Machine.Native;

namespace Converge.Machine;

/// <summary>
/// One run at a time per host: an exclusive <c>flock(2)</c> on a lock file, shared by the agent, manual
/// runs and anything else that uses flock (util-linux <c>flock</c> included). The kernel releases it
/// when the holder exits, so a crashed run never leaves a stale lock. The holder writes its pid into
/// the file so a waiting run can say who it is waiting for. The file itself is never deleted:
/// deleting a lock file lets two runs lock two different inodes.
/// </summary>
public sealed class RunLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private int _fd;

    private RunLock(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>
    /// Takes the lock, polling until <paramref name="wait"/> has passed (<see cref="TimeSpan.Zero"/>
    /// tries once). Creates the file (0644) if missing, but not its directory.
    /// </summary>
    /// <exception cref="RunLockTimeoutException">Someone else still holds it after the wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled while waiting.</exception>
    public static RunLock Acquire(string lockPath, TimeSpan wait, CancellationToken ct)
    {
        var fd = FileDescriptor.Open(lockPath, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0x1A4, "open");
        try
        {
            var deadline = DateTime.UtcNow + wait;
            while (!TryLock(fd, lockPath))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new RunLockTimeoutException(lockPath, ReadHolderPid(fd, lockPath), wait);
                if (ct.WaitHandle.WaitOne(left < PollInterval ? left : PollInterval))
                    ct.ThrowIfCancellationRequested();
            }
            WritePid(fd, lockPath);
            return new RunLock(lockPath, fd);
        }
        catch
        {
            FileDescriptor.CloseQuietly(fd);
            throw;
        }
    }

    /// <summary>
    /// The pid the current holder wrote into <paramref name="lockPath"/>, or null when the file is
    /// missing or holds none (no holder, or it has not written yet). Reads through a raw fd: .NET's
    /// FileStream takes a shared flock of its own and fails while the lock is held.
    /// </summary>
    public static int? ReadHolderPid(string lockPath)
    {
        int fd;
        try
        {
            fd = FileDescriptor.Open(lockPath, LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0, "open");
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        try { return ReadHolderPid(fd, lockPath); }
        finally { FileDescriptor.CloseQuietly(fd); }
    }

    /// <summary>Releases the lock (clearing the pid first). Safe to call twice.</summary>
    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        LibC.FTruncate(fd, 0);
        LibC.Flock(fd, LibC.LOCK_UN);
        LibC.Close(fd);
    }

    private static bool TryLock(int fd, string path)
    {
        while (true)
        {
            if (LibC.Flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) == 0) return true;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EAGAIN) return false;
            if (errno != LibC.EINTR) throw Errno.For(errno, "flock", path);
        }
    }

    private static void WritePid(int fd, string path)
    {
        Errno.Check(LibC.FTruncate(fd, 0), "truncate", path);
        var text = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
        // The fd was just opened and never written, so its offset is 0.
        FileDescriptor.WriteAll(fd, Encoding.ASCII.GetBytes(text), path);
    }

    private static int? ReadHolderPid(int fd, string path)
    {
        Span<byte> buffer = stackalloc byte[32];
        var read = FileDescriptor.ReadFromStart(fd, buffer, path);
        var text = Encoding.ASCII.GetString(buffer[..read]).Trim();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }
}
