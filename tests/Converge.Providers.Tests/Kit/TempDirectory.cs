namespace Converge.Providers.Tests.Kit;

/// <summary>A fresh directory per test under the system temp dir, removed (with everything in it) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = IODirectory.CreateTempSubdirectory("converge-providers-").FullName;
    }

    /// <summary>The directory's absolute, normalized path.</summary>
    public string Path { get; }

    /// <summary>A path inside the directory.</summary>
    public string this[string relative] => System.IO.Path.Join(Path, relative);

    public void Dispose()
    {
        try
        {
            IODirectory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // A test removed it itself.
        }
    }
}
