namespace Converge.Machine;

/// <summary>
/// Content-addressed backups of file contents replaced or removed by a run (the "filebucket").
/// Stored by sha256; storing the same content twice is free.
/// </summary>
public interface IBucket
{
    /// <summary>Stores the content (0600, in a 0700 directory) and returns its lowercase hex sha256.</summary>
    string Store(ReadOnlySpan<byte> content);

    /// <summary>The stored content, or null if no such hash is kept.</summary>
    byte[]? Load(string sha256);
}
