using System.Runtime.InteropServices;

namespace Converge.Machine.Native;

/// <summary>
/// Turns a failed libc call into the exception .NET code expects, with a message that names the
/// operation, the path and the errno text, e.g. "chmod /etc/motd: Operation not permitted (errno 1)".
/// EACCES/EPERM become <see cref="UnauthorizedAccessException"/>, ENOENT <see cref="FileNotFoundException"/>,
/// anything else an <see cref="IOException"/> whose HResult is the errno (so callers can test for EEXIST).
/// </summary>
internal static class Errno
{
    /// <summary>The exception for the errno of the last P/Invoke call.</summary>
    public static Exception Last(string operation, string path) =>
        For(Marshal.GetLastPInvokeError(), operation, path);

    public static Exception For(int errno, string operation, string path)
    {
        var message = $"{operation} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        return errno switch
        {
            LibC.EACCES or LibC.EPERM => new UnauthorizedAccessException(message),
            LibC.ENOENT => new FileNotFoundException(message, path),
            _ => new IOException(message, errno),
        };
    }

    /// <summary>Throws for a negative return code; returns it otherwise.</summary>
    public static int Check(int rc, string operation, string path) =>
        rc < 0 ? throw Last(operation, path) : rc;
}
