namespace Converge.Machine;

/// <summary>
/// Content-addressed backups of file contents replaced or removed by a run (the "filebucket").
/// Stored by sha256; storing the same content twice is free.
/// </summary>
public interface IBucket
{
    /// <summary>
    /// Stores the content (0600, in a 0700 directory) and returns its lowercase hex sha256. With
    /// <paramref name="path"/> (the file the content came from), the store is also recorded in the
    /// bucket's index (path, hash, size, time, run, <paramref name="sensitive"/>) so <c>converge bucket
    /// list</c> and <c>undo</c> can find it; a store that is only a hash (no path) is not indexed.
    /// </summary>
    string Store(ReadOnlySpan<byte> content, string? path = null, bool sensitive = false);

    /// <summary>The stored content, or null if no such hash is kept.</summary>
    byte[]? Load(string sha256);
}
