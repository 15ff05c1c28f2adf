using Converge.Machine;

namespace Converge.Providers.Common;

/// <summary>How plans name what stands at a path (the values of <c>ensure</c> changes).</summary>
public static class FileKinds
{
    /// <summary><c>file</c>, <c>directory</c>, <c>link</c> or <c>special</c> (device, fifo, socket).</summary>
    public static string Name(FileKind kind) => kind switch
    {
        FileKind.File => "file",
        FileKind.Directory => "directory",
        FileKind.Symlink => "link",
        _ => "special",
    };
}
