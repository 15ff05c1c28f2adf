using System.CommandLine;

namespace Converge.Cli;

/// <summary>Settings every command shares, read once from the command line and the environment.</summary>
public sealed record Settings(
    string? StateDir,
    string? Node,
    string FactsDir,
    int Verbosity,
    bool Color)
{
    public const string DefaultStateDir = "/var/lib/converge";
    public const string DefaultLockPath = "/run/converge.lock";

    /// <summary>Where reports and backups go: --state-dir, else $CONVERGE_STATE_DIR, else /var/lib/converge.</summary>
    public string EffectiveStateDir => StateDir ?? DefaultStateDir;

    /// <summary>
    /// The run lock. It lives in /run by default (gone after a reboot, like the run it guards); a custom
    /// state dir takes the lock with it, so tests and side-by-side installs never block each other.
    /// </summary>
    public string LockPath => StateDir is null ? DefaultLockPath : Path.Combine(StateDir, "converge.lock");
}

/// <summary>Options of `apply` (and of the root, for `converge --noop`).</summary>
public sealed record ApplySettings(bool Noop, IReadOnlyList<string> Tags, bool Json, TimeSpan LockTimeout)
{
    /// <summary>A JSON object file whose members become vars (over site and node vars): <c>--vars-file</c>.</summary>
    public string? VarsFile { get; init; }

    /// <summary>True with <c>--events jsonl</c>: one JSON line per event on stdout instead of the human view.</summary>
    public bool EventsJsonl { get; init; }

    /// <summary><c>--config FILE</c> or <c>$CONVERGE_CONFIG</c>: the converge.yaml to read (null: /etc/converge/converge.yaml if it exists).</summary>
    public string? ConfigFile { get; init; }

    /// <summary><c>--operator NAME</c> or <c>$CONVERGE_OPERATOR</c>: who pushed this run from elsewhere (converge ssh passes it).</summary>
    public string? Operator { get; init; }
}

public sealed class CommonOptions
{
    public readonly Option<string?> StateDir = new("--state-dir")
    {
        Description = "Directory for reports, backups and the run lock (default /var/lib/converge and /run/converge.lock; env CONVERGE_STATE_DIR)",
        HelpName = "DIR",
        Recursive = true,
    };

    public readonly Option<string?> Node = new("--node")
    {
        Description = "Compile as if this host's name were NAME",
        HelpName = "NAME",
        Recursive = true,
    };

    public readonly Option<string?> FactsDir = new("--facts-dir")
    {
        Description = "Directory of external facts (default /etc/converge/facts.d; env CONVERGE_FACTS_DIR)",
        HelpName = "DIR",
        Recursive = true,
    };

    public readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Log more (debug)", Recursive = true };
    public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Log only errors", Recursive = true };

    public readonly Option<string> Color = new("--color")
    {
        Description = "Colour: auto (on a terminal, unless NO_COLOR is set), always, never",
        DefaultValueFactory = _ => "auto",
        Recursive = true,
    };

    public readonly Option<bool> Noop = new("--noop", "-n")
    {
        Description = "Preview: show every change (with diffs) that a run would make; change nothing. Exit 2 when changes are pending",
    };

    public readonly Option<string?> Tags = new("--tags", "-t")
    {
        Description = "Run only resources with one of these comma-separated tags (and what they require)",
        HelpName = "TAGS",
    };

    public readonly Option<bool> Json = new("--json") { Description = "Print the run's JSON report on stdout instead of the human view" };

    public readonly Option<double> LockTimeout = new("--lock-timeout")
    {
        Description = "Seconds to wait for another run to finish before giving up",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 60,
    };

    public readonly Option<string?> VarsFile = new("--vars-file")
    {
        Description = "A JSON file holding one object whose members are added to vars (over site and node vars); converge ssh passes inventory vars this way",
        HelpName = "FILE",
    };

    public readonly Option<string?> Events = new("--events")
    {
        Description = "Print machine-readable events on stdout instead of the human view: 'jsonl' gives one JSON object per line (start, each resource, the report)",
        HelpName = "FORMAT",
    };

    public readonly Option<string?> Config = new("--config")
    {
        Description = "The converge config file with notify settings (default /etc/converge/converge.yaml when it exists; env CONVERGE_CONFIG)",
        HelpName = "FILE",
    };

    public readonly Option<string?> Operator = new("--operator")
    {
        Description = "Who pushed this run, recorded in the report's who.operator (converge ssh passes user@machine; env CONVERGE_OPERATOR)",
        HelpName = "NAME",
    };

    public CommonOptions()
    {
        Events.AcceptOnlyFromAmong("jsonl");
        Color.AcceptOnlyFromAmong("auto", "always", "never");
    }

    public IEnumerable<Option> Global => [StateDir, Node, FactsDir, Verbose, Quiet, Color];

    public IEnumerable<Option> ApplyOnly => [Noop, Tags, Json, LockTimeout, VarsFile, Events, .. NotifyOptions];

    /// <summary>The options of notifications and "who" (docs/notifications.md).</summary>
    public IEnumerable<Option> NotifyOptions => [Config, Operator];

    public static Argument<string> PathArgument()
    {
        var path = new Argument<string>("PATH")
        {
            Description = "A manifest repo directory (with site.yaml) or a single manifest file",
            DefaultValueFactory = _ => ".",
        };
        // The parser binds an unknown "--flag" to PATH; a mistyped option is a usage error, not a path.
        path.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (token.Value.StartsWith('-') && token.Value.Length > 1)
                    result.AddError($"unknown option '{token.Value}'");
        });
        return path;
    }

    public Settings Read(ParseResult p)
    {
        var color = p.GetValue(Color) switch
        {
            "always" => true,
            "never" => false,
            _ => !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")),
        };
        var verbosity = p.GetValue(Verbose) ? 1 : p.GetValue(Quiet) ? -1 : 0;
        return new Settings(
            NonEmpty(p.GetValue(StateDir)) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_STATE_DIR")),
            NonEmpty(p.GetValue(Node)),
            NonEmpty(p.GetValue(FactsDir)) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_FACTS_DIR")) ?? "/etc/converge/facts.d",
            verbosity,
            color);
    }

    public ApplySettings ReadApply(ParseResult p) => new(
        p.GetValue(Noop),
        (p.GetValue(Tags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        p.GetValue(Json),
        TimeSpan.FromSeconds(p.GetValue(LockTimeout)))
    {
        VarsFile = NonEmpty(p.GetValue(VarsFile)),
        EventsJsonl = p.GetValue(Events) == "jsonl",
        ConfigFile = ReadConfigFile(p),
        Operator = NonEmpty(p.GetValue(Operator)) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_OPERATOR")),
    };

    /// <summary><c>--config</c>, else <c>$CONVERGE_CONFIG</c>, else null (the default file, when it exists).</summary>
    public string? ReadConfigFile(ParseResult p)
        => NonEmpty(p.GetValue(Config)) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_CONFIG"));

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
