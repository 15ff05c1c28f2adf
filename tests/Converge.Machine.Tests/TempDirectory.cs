namespace Converge.Machine.Tests;

/// <summary>A fresh directory under /tmp for one test, removed (with everything in it) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = Directory.CreateTempSubdirectory("converge-machine-").FullName;

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Join(Path, name);

    public string Write(string name, string content)
    {
        var path = Combine(name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path)) new LocalSystem().DeleteDirectory(Path, recursive: true);
    }
}
