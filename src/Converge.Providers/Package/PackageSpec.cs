using Converge.Providers.Contract;

namespace Converge.Providers.Package;

/// <summary>What <c>ensure</c> asks of a package.</summary>
public enum PackageEnsure
{
    /// <summary>Installed, any version (an installed package is never upgraded).</summary>
    Installed,

    /// <summary>Installed at the candidate version <c>apt-cache policy</c> reports.</summary>
    Latest,

    /// <summary>Installed at exactly <see cref="PackageSpec.Version"/>.</summary>
    Version,

    /// <summary>Not installed; configuration files may remain (<c>apt-get remove</c>).</summary>
    Absent,

    /// <summary>Not installed and no configuration files left (<c>apt-get purge</c>).</summary>
    Purged,
}

/// <summary>
/// The typed desired state of a <c>package</c> resource. The title is the package name (Debian policy:
/// lower case letters, digits, <c>+ - .</c>, at least two characters, starting with a letter or digit).
/// </summary>
public sealed record PackageSpec : ResourceSpec
{
    /// <summary>The default <c>cache_max_age</c>: lists younger than an hour are fresh enough.</summary>
    public static readonly TimeSpan DefaultCacheMaxAge = TimeSpan.FromHours(1);

    /// <summary>How long one apt-get or dpkg-query command may run.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    public required string Name { get; init; }

    public PackageEnsure Ensure { get; init; } = PackageEnsure.Installed;

    /// <summary>The exact version for <see cref="PackageEnsure.Version"/>; null otherwise.</summary>
    public string? Version { get; init; }

    /// <summary>The package manager; only <c>apt</c> exists so far.</summary>
    public string Provider { get; init; } = PackageProvider.DefaultProvider;

    /// <summary>Run <c>apt-get update</c> first when the lists are older than <see cref="CacheMaxAge"/>.</summary>
    public bool UpdateCache { get; init; }

    public TimeSpan CacheMaxAge { get; init; } = DefaultCacheMaxAge;

    /// <summary>True when the ensure value wants the package installed in some version.</summary>
    public bool WantsInstalled => Ensure is PackageEnsure.Installed or PackageEnsure.Latest or PackageEnsure.Version;
}
