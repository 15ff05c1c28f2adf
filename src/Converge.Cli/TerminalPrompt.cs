using System.Runtime.InteropServices;
using System.Text;

namespace Converge.Cli;

/// <summary>
/// Asks the operator for a secret on the controlling terminal (<c>/dev/tty</c>), with echo off, as
/// ssh's passphrase prompt does: the answer never touches stdout, stderr or the command line.
/// </summary>
internal static partial class TerminalPrompt
{
    // struct termios (glibc, every Linux architecture): c_iflag, c_oflag, c_cflag, c_lflag (4 bytes
    // each), c_line, c_cc[32], then the speeds: 60 bytes. Only c_lflag is touched.
    private const int TermiosSize = 64;
    private const int LflagOffset = 12;
    private const uint Echo = 0x8;
    private const int TcsaNow = 0;

    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int TcGetAttr(int fd, [Out] byte[] termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int TcSetAttr(int fd, int optionalActions, byte[] termios);

    /// <summary>
    /// Whether there is an operator to ask: standard input is a terminal (not a pipe, a file or
    /// /dev/null, as in CI or cron) and the controlling terminal can be opened.
    /// </summary>
    public static bool Available()
    {
        if (Console.IsInputRedirected) return false;
        try
        {
            using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Writes <paramref name="prompt"/> to the terminal and reads one line with echo off. Returns null
    /// when <paramref name="ct"/> (Ctrl-C) fires first; echo is restored either way.
    /// </summary>
    public static string? AskSecret(string prompt, CancellationToken ct)
    {
        using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        var fd = (int)tty.SafeFileHandle.DangerousGetHandle();
        var saved = new byte[TermiosSize];
        var haveTermios = TcGetAttr(fd, saved) == 0;
        try
        {
            if (haveTermios)
            {
                var quiet = (byte[])saved.Clone();
                var lflag = BitConverter.ToUInt32(quiet, LflagOffset) & ~Echo;
                BitConverter.GetBytes(lflag).CopyTo(quiet, LflagOffset);
                TcSetAttr(fd, TcsaNow, quiet);
            }
            tty.Write(Encoding.UTF8.GetBytes(prompt));
            // The read blocks until Enter; Ctrl-C (the first one is caught, see Interrupts) must still
            // end the prompt, so the read runs aside and the token is watched here.
            var reading = Task.Run(() => ReadLine(tty));
            try { reading.Wait(ct); }
            catch (OperationCanceledException) { return null; }
            return reading.Result;
        }
        finally
        {
            if (haveTermios) TcSetAttr(fd, TcsaNow, saved);
            // The Enter that ended the answer was not echoed either.
            try { tty.Write("\n"u8); }
            catch (IOException) { }
        }
    }

    private static string? ReadLine(Stream tty)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int n;
            try { n = tty.Read(one, 0, 1); }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { return null; }
            if (n == 0 || one[0] == '\n') break;
            if (one[0] != '\r') bytes.Add(one[0]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
