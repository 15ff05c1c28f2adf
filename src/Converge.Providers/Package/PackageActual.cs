namespace Converge.Providers.Package;

/// <summary>Where dpkg says a package is (the third word of <c>${Status}</c>, simplified).</summary>
public enum PackageState
{
    /// <summary>Not known to dpkg, or <c>not-installed</c>.</summary>
    Absent,

    /// <summary>Removed, configuration files left (<c>config-files</c>).</summary>
    ConfigFiles,

    /// <summary><c>installed</c> (or only waiting for triggers).</summary>
    Installed,

    /// <summary>Half installed, unpacked or half configured: an install finishes it, a remove removes it.</summary>
    Partial,
}

/// <summary>
/// A package as read: its dpkg state and version, the candidate version apt would install (read only
/// for <c>ensure: latest</c>; null when apt knows no candidate), and how old the apt lists are (read only
/// with <c>update_cache</c>; null when there are none).
/// </summary>
public sealed record PackageActual(string Name, PackageState State, string? Version)
{
    public string? Candidate { get; init; }

    public TimeSpan? ListsAge { get; init; }

    public static PackageActual Absent(string name) => new(name, PackageState.Absent, null);

    /// <summary>How plans show the state: the version when installed, else the dpkg state word.</summary>
    public string Display => State switch
    {
        PackageState.Installed => Version ?? "installed",
        PackageState.ConfigFiles => "config-files",
        PackageState.Partial => $"partially installed {Version}".TrimEnd(),
        _ => "absent",
    };
}
