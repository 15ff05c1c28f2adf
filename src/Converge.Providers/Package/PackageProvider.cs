using System.Globalization;
using System.Text.RegularExpressions;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Common;
using Converge.Providers.Contract;

namespace Converge.Providers.Package;

/// <summary>
/// The <c>package</c> type with its apt implementation: reads every package of the run with one
/// <c>dpkg-query</c> (through <see cref="IBatchedReader"/>), consults <c>apt-cache policy</c> for
/// <c>ensure: latest</c>, and installs, removes or purges with <c>apt-get</c>, non-interactively and
/// keeping existing configuration files.
/// </summary>
public sealed partial class PackageProvider : ResourceProvider<PackageSpec, PackageActual>, IBatchedReader
{
    /// <summary>
    /// The package manager used when a resource names none. Facts do not reach providers (they are
    /// parsed before the host is read), so the choice is made here, once, and documented: apt, the
    /// manager of Debian and Ubuntu, the only systems Converge supports so far.
    /// </summary>
    public const string DefaultProvider = "apt";

    /// <summary>The package managers this build implements.</summary>
    public static readonly IReadOnlyList<string> Providers = ["apt"];

    /// <summary>The words <c>ensure</c> takes besides a version.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, PackageEnsure>> EnsureWords =
    [
        new("installed", PackageEnsure.Installed),
        new("present", PackageEnsure.Installed),
        new("latest", PackageEnsure.Latest),
        new("absent", PackageEnsure.Absent),
        new("purged", PackageEnsure.Purged),
    ];

    /// <summary>The environment of every apt-get install: no debconf prompt, ever.</summary>
    public static readonly IReadOnlyDictionary<string, string> InstallEnvironment =
        new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };

    /// <summary>Where apt keeps its package lists; their age decides whether <c>update_cache</c> runs <c>apt-get update</c>.</summary>
    public const string ListsDirectory = "/var/lib/apt/lists";

    private readonly TimeProvider _time;

    public PackageProvider(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <inheritdoc />
    public override string Type => "package";

    /// <inheritdoc />
    public override IReadOnlyCollection<string> PropertyNames { get; } = ["ensure", "provider", "update_cache", "cache_max_age"];

    /// <inheritdoc />
    public override PackageSpec? Parse(CatalogResource resource, DiagnosticBag diagnostics)
    {
        var reader = new SpecReader(resource, PropertyNames, diagnostics);
        var name = resource.Title;
        if (!IsValidName(name))
            reader.Error(DiagnosticCodes.InvalidPackageName, resource.TitleSpan.IsNone ? resource.Span : resource.TitleSpan,
                $"'{name}' is not a valid package name; Debian names use lower case letters, digits, '+', '-' and '.', start with a letter or digit and are at least two characters long (e.g. nginx, libssl3)");

        var ensure = PackageEnsure.Installed;
        string? version = null;
        if (reader.String("ensure") is { } ensureText)
        {
            var word = EnsureWords.FirstOrDefault(w => w.Key == ensureText);
            if (word.Key is not null) ensure = word.Value;
            else if (ensureText.Length > 0 && char.IsAsciiDigit(ensureText[0]))
            {
                if (IsValidVersion(ensureText)) (ensure, version) = (PackageEnsure.Version, ensureText);
                else reader.Error(DiagnosticCodes.InvalidPackageVersion, reader.SpanOf("ensure"),
                    $"ensure: '{ensureText}' is not a valid Debian version; write [epoch:]upstream[-revision] with the upstream part starting with a digit, such as 1.2.3-1 or 2:4.0~rc1-2");
            }
            else
            {
                var words = EnsureWords.Select(w => w.Key).ToList();
                reader.Error(DiagnosticCodes.InvalidPackageEnsure, reader.SpanOf("ensure"),
                    $"ensure must be one of {string.Join(", ", words)} or a version such as 1.2-1; got {ensureText}{Suggest.DidYouMean(ensureText, words)}");
            }
        }

        var provider = reader.String("provider");
        if (provider is not null && !Providers.Contains(provider))
            reader.Error(DiagnosticCodes.UnknownPackageProvider, reader.SpanOf("provider"),
                $"unknown package provider '{provider}'; this build has {string.Join(", ", Providers)}{Suggest.DidYouMean(provider, Providers)}");

        var updateCache = reader.Bool("update_cache");
        var maxAge = reader.Duration("cache_max_age");
        if (updateCache != true) reader.Ineffective("update_cache is not true", "cache_max_age");
        if (reader.HasErrors) return null;
        return new PackageSpec
        {
            Id = resource.Id,
            Sensitive = resource.Sensitive,
            SensitiveProperties = reader.SensitiveProperties,
            Name = name,
            Ensure = ensure,
            Version = version,
            Provider = provider ?? DefaultProvider,
            UpdateCache = updateCache ?? false,
            CacheMaxAge = maxAge ?? PackageSpec.DefaultCacheMaxAge,
        };
    }

    /// <summary>Debian policy §5.6.1: at least two characters, lower case alphanumerics and <c>+ - .</c>, starting alphanumeric.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <summary>
    /// Debian policy §5.6.12: <c>[epoch:]upstream[-revision]</c>; the epoch is digits, the upstream part
    /// starts with a digit and may hold <c>:</c> only with an epoch and <c>-</c> only with a revision.
    /// </summary>
    public static bool IsValidVersion(string version)
    {
        var rest = version;
        var colon = rest.IndexOf(':');
        var hasEpoch = false;
        if (colon >= 0)
        {
            if (colon == 0 || !rest[..colon].All(char.IsAsciiDigit)) return false;
            rest = rest[(colon + 1)..];
            hasEpoch = true;
        }
        var dash = rest.LastIndexOf('-');
        if (dash >= 0)
        {
            var revision = rest[(dash + 1)..];
            if (revision.Length == 0 || !revision.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '.' or '~')) return false;
            rest = rest[..dash];
        }
        if (rest.Length == 0 || !char.IsAsciiDigit(rest[0])) return false;
        return rest.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '~' or '-' || (c == ':' && hasEpoch));
    }

    /// <inheritdoc />
    /// <remarks>Reads this one package (the engine normally uses <see cref="ReadManyAsync"/> instead).</remarks>
    public override async ValueTask<PackageActual> ReadAsync(PackageSpec spec, ProviderContext context, CancellationToken ct)
    {
        var all = await ReadManyAsync([spec], context, ct).ConfigureAwait(false);
        return (PackageActual)all[spec.Id];
    }

    /// <inheritdoc />
    /// <remarks>
    /// One <c>dpkg-query -W</c> for every package; one <c>apt-cache policy</c> for the packages that want
    /// <c>latest</c>; one <c>stat</c> of the lists when some resource has <c>update_cache</c>. Nothing is changed.
    /// </remarks>
    public async ValueTask<IReadOnlyDictionary<ResourceId, object>> ReadManyAsync(IReadOnlyList<ResourceSpec> specs, ProviderContext context, CancellationToken ct)
    {
        var packages = specs.Cast<PackageSpec>().ToList();
        var names = packages.Select(p => p.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var states = new Dictionary<string, PackageActual>(StringComparer.Ordinal);
        if (names.Count > 0)
        {
            var argv = QueryArgv(names);
            var result = await RunAsync(context.System, argv, null, ct).ConfigureAwait(false);
            // dpkg-query exits 1 when some name is unknown to dpkg, and still prints the others.
            if (result.TimedOut || result.ExitCode is not (0 or 1)) throw ProviderException.PackageCommandFailed(ShellQuote.Join(argv), result);
            states = ParseQuery(result.StandardOutput);
        }

        var latest = packages.Where(p => p.Ensure == PackageEnsure.Latest).Select(p => p.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var candidates = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (latest.Count > 0)
        {
            var argv = PolicyArgv(latest);
            var result = await RunAsync(context.System, argv, null, ct).ConfigureAwait(false);
            if (result.TimedOut || result.ExitCode != 0) throw ProviderException.PackageCommandFailed(ShellQuote.Join(argv), result);
            candidates = ParsePolicy(result.StandardOutput);
        }

        TimeSpan? listsAge = null;
        if (packages.Any(p => p.UpdateCache))
            listsAge = await ListsAgeAsync(context.System, ct).ConfigureAwait(false);

        var answer = new Dictionary<ResourceId, object>(packages.Count);
        foreach (var spec in packages)
        {
            var actual = states.TryGetValue(spec.Name, out var a) ? a : PackageActual.Absent(spec.Name);
            answer[spec.Id] = actual with
            {
                Candidate = candidates.GetValueOrDefault(spec.Name),
                ListsAge = spec.UpdateCache ? listsAge : null,
            };
        }
        return answer;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pure. At most two changes, in the order they are applied: <c>cache</c> (<c>apt-get update</c>, only
    /// with <c>update_cache</c>, when the lists are older than <c>cache_max_age</c> and the package is to
    /// be installed: always for <c>latest</c>, otherwise only when an install is planned) and
    /// <c>ensure</c> (the apt-get install, remove or purge).
    /// </remarks>
    public override IReadOnlyList<Change> Diff(PackageSpec spec, PackageActual actual)
    {
        var ensure = EnsureChange(spec, actual);
        var changes = new List<Change>(2);
        var stale = spec.UpdateCache && (actual.ListsAge is not { } age || age > spec.CacheMaxAge);
        if (stale && (spec.Ensure == PackageEnsure.Latest || (spec.WantsInstalled && ensure is not null)))
            changes.Add(new Change("cache", actual.ListsAge is { } a ? $"lists {FormatAge(a)} old" : "no lists", "updated", UpdateArgv));
        if (ensure is not null) changes.Add(ensure);
        return changes;
    }

    private static Change? EnsureChange(PackageSpec spec, PackageActual actual)
    {
        var installed = actual.State == PackageState.Installed;
        switch (spec.Ensure)
        {
            case PackageEnsure.Installed:
                return installed ? null : new Change("ensure", actual.Display, "installed", InstallArgv(spec.Name, null));
            case PackageEnsure.Version:
                return installed && SameVersion(actual.Version, spec.Version!)
                    ? null
                    : new Change("ensure", actual.Display, spec.Version, InstallArgv(spec.Name, spec.Version, allowDowngrade: installed));
            case PackageEnsure.Latest:
                if (installed && (actual.Candidate is null || SameVersion(actual.Version, actual.Candidate))) return null;
                return new Change("ensure", actual.Display, actual.Candidate ?? "latest", InstallArgv(spec.Name, null));
            case PackageEnsure.Absent:
                return actual.State is PackageState.Installed or PackageState.Partial
                    ? new Change("ensure", actual.Display, "absent", RemoveArgv(spec.Name))
                    : null;
            case PackageEnsure.Purged:
                return actual.State == PackageState.Absent
                    ? null
                    : new Change("ensure", actual.Display, "purged", PurgeArgv(spec.Name));
            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Ensure, "unknown ensure");
        }
    }

    /// <inheritdoc />
    /// <remarks>Runs each change's argv in order (installs with <see cref="InstallEnvironment"/>); a failure throws with apt's message.</remarks>
    public override async ValueTask ApplyAsync(PackageSpec spec, PackageActual actual, IReadOnlyList<Change> changes, ProviderContext context, CancellationToken ct)
    {
        foreach (var change in changes)
        {
            if (change is not { Property: "cache" or "ensure", Argv: { } argv }) throw ProviderException.UnexpectedChange(Type, change.Property);
            var environment = argv.Count > 1 && argv[1] == "install" ? InstallEnvironment : null;
            var result = await RunAsync(context.System, argv, environment, ct).ConfigureAwait(false);
            if (result.TimedOut || result.ExitCode != 0) throw ProviderException.PackageCommandFailed(ShellQuote.Join(argv), result);
        }
    }

    /// <summary>The one read query: status and version of every named package.</summary>
    public static IReadOnlyList<string> QueryArgv(IEnumerable<string> names) =>
        ["dpkg-query", "-W", "-f=${Package}\\t${Status}\\t${Version}\\n", .. names];

    /// <summary>Candidate versions, for <c>ensure: latest</c>.</summary>
    public static IReadOnlyList<string> PolicyArgv(IEnumerable<string> names) => ["apt-cache", "policy", .. names];

    /// <summary>
    /// Installs (or up/downgrades to) a package; never prompts, keeps changed configuration files.
    /// <paramref name="allowDowngrade"/> is for a pinned version replacing an installed one: with -y,
    /// apt-get refuses a downgrade ("Packages were downgraded and -y was used without
    /// --allow-downgrades"), and the flag does nothing to an upgrade.
    /// </summary>
    public static IReadOnlyList<string> InstallArgv(string name, string? version, bool allowDowngrade = false) =>
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold",
            .. (allowDowngrade ? (string[])["--allow-downgrades"] : []),
            version is null ? name : $"{name}={version}"];

    public static IReadOnlyList<string> RemoveArgv(string name) => ["apt-get", "remove", "-y", name];

    public static IReadOnlyList<string> PurgeArgv(string name) => ["apt-get", "purge", "-y", name];

    public static readonly IReadOnlyList<string> UpdateArgv = ["apt-get", "update", "-q"];

    /// <summary>Parses <c>dpkg-query -W</c> output (<see cref="QueryArgv"/>); for several architectures of one name the installed one wins.</summary>
    public static Dictionary<string, PackageActual> ParseQuery(string output)
    {
        var result = new Dictionary<string, PackageActual>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var fields = line.Split('\t');
            if (fields.Length < 3 || fields[0].Length == 0) continue;
            var words = fields[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var state = (words.Length == 3 ? words[2] : "") switch
            {
                "installed" or "triggers-awaited" or "triggers-pending" => PackageState.Installed,
                "config-files" => PackageState.ConfigFiles,
                "half-installed" or "unpacked" or "half-configured" => PackageState.Partial,
                _ => PackageState.Absent,
            };
            var version = fields[2].Length == 0 || state == PackageState.Absent ? null : fields[2];
            var actual = new PackageActual(fields[0], state, version);
            if (!result.TryGetValue(fields[0], out var seen) || Rank(state) > Rank(seen.State)) result[fields[0]] = actual;
        }
        return result;

        static int Rank(PackageState s) => s switch
        {
            PackageState.Installed => 3, PackageState.Partial => 2, PackageState.ConfigFiles => 1, _ => 0,
        };
    }

    /// <summary>Parses <c>apt-cache policy</c> output: each package's <c>Candidate:</c>, null for <c>(none)</c>.</summary>
    public static Dictionary<string, string?> ParsePolicy(string output)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? current = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length > 0 && line[0] != ' ' && line.EndsWith(':'))
            {
                current = line[..^1];
                var arch = current.IndexOf(':'); // "pkg:i386:" for foreign architectures
                if (arch > 0) current = current[..arch];
            }
            else if (current is not null && line.TrimStart().StartsWith("Candidate:", StringComparison.Ordinal))
            {
                var candidate = line.TrimStart()["Candidate:".Length..].Trim();
                result.TryAdd(current, candidate is "(none)" or "" ? null : candidate);
            }
        }
        return result;
    }

    /// <summary>dpkg compares <c>1.0</c> and <c>0:1.0</c> as equal: so does Converge.</summary>
    public static bool SameVersion(string? installed, string wanted) =>
        installed is not null && StripZeroEpoch(installed) == StripZeroEpoch(wanted);

    private static string StripZeroEpoch(string v) => v.StartsWith("0:", StringComparison.Ordinal) ? v[2..] : v;

    private static string FormatAge(TimeSpan age) =>
        age.TotalHours >= 1 ? $"{(int)age.TotalHours}h{age.Minutes:00}m" : age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m" : $"{(int)age.TotalSeconds}s";

    // apt replaces list files by rename (touching the directory) and keeps the server's mtime on the
    // files themselves, so the newest mtime of the directory and its lock says when update last ran.
    private async Task<TimeSpan?> ListsAgeAsync(ISystem system, CancellationToken ct)
    {
        if (system.Stat(ListsDirectory) is null) return null;
        IReadOnlyList<string> argv = ["stat", "-c", "%Y", ListsDirectory, ListsDirectory + "/partial"];
        var result = await RunAsync(system, argv, null, ct).ConfigureAwait(false);
        long newest = 0;
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (long.TryParse(line.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)) newest = Math.Max(newest, seconds);
        if (newest == 0) return null;
        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(newest);
        return age < TimeSpan.Zero ? TimeSpan.Zero : age;
    }

    private static async Task<ProcessResult> RunAsync(ISystem system, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? environment, CancellationToken ct)
    {
        try
        {
            return await system.RunAsync(new ProcessSpec(argv) { Environment = environment, Timeout = PackageSpec.CommandTimeout }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
            throw ProviderException.CommandNotStarted(ShellQuote.Join(argv), e);
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9+.-]+$")]
    private static partial Regex NamePattern();
}
