using System.Text;

namespace Converge.Machine;

/// <summary>
/// Collects a child's stdout or stderr as it arrives, so what was read so far can be returned even
/// when the stream never reaches end-of-file (a background descendant still holds it open).
/// </summary>
internal sealed class OutputCapture
{
    private readonly StringBuilder _text = new();
    private readonly Task _reading;

    public OutputCapture(StreamReader reader) => _reading = ReadAsync(reader);

    /// <summary>Waits for end-of-file up to <paramref name="grace"/>, then returns what arrived.</summary>
    public async Task<string> CompleteAsync(TimeSpan grace)
    {
        await Task.WhenAny(_reading, Task.Delay(grace)).ConfigureAwait(false);
        lock (_text) return _text.ToString();
    }

    private async Task ReadAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                lock (_text) _text.Append(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process object was disposed while a descendant kept the pipe open: keep what we have.
        }
    }
}
