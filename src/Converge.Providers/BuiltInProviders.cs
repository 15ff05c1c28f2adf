using Converge.Providers.AuthorizedKey;
using Converge.Providers.Contract;
using Converge.Providers.Cron;
using Converge.Providers.Directory;
using Converge.Providers.Exec;
using Converge.Providers.File;
using Converge.Providers.Group;
using Converge.Providers.Line;
using Converge.Providers.Link;
using Converge.Providers.Package;
using Converge.Providers.Service;
using Converge.Providers.User;

namespace Converge.Providers;

/// <summary>The resource types built into Converge. Providers are stateless, so one instance of each serves every run.</summary>
public static class BuiltInProviders
{
    /// <summary>A new list of every built-in provider, ordered by type name.</summary>
    public static IReadOnlyList<IResourceProvider> Create() =>
    [
        new AuthorizedKeyProvider(),
        new CronProvider(),
        new DirectoryProvider(),
        new ExecProvider(),
        new FileProvider(),
        new GroupProvider(),
        new LineProvider(),
        new LinkProvider(),
        new PackageProvider(), // apt: the default package manager is chosen in PackageProvider.DefaultProvider
        new ServiceProvider(), // the default manager (systemd, runit, sysv) is detected in ServiceManagers.Detect
        new UserProvider(),
    ];

    /// <summary>A registry of the built-in providers (also the compiler's <see cref="Compiler.Catalog.IResourceTypes"/>).</summary>
    public static ProviderRegistry Registry() => new(Create());
}
