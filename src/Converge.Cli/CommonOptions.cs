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

    /// <summary><c>--out FILE</c> (with --noop): save the plan for review (docs/plans.md).</summary>
    public string? PlanOut { get; init; }

    /// <summary><c>--plan FILE</c>: apply only this reviewed plan, refusing on any drift.</summary>
    public string? PlanIn { get; init; }

    /// <summary><c>--max-age</c> (with --plan): refuse a plan older than this; null: any age.</summary>
    public TimeSpan? PlanMaxAge { get; init; }

    /// <summary>The raw <c>--max-age</c> text when it did not parse (a usage error).</summary>
    public string? PlanMaxAgeInvalid { get; init; }

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

    public readonly Option<string?> PlanOut = new("--out")
    {
        Description = "With --noop: save the plan as JSON to FILE for review, to be applied later with 'apply --plan FILE' (docs/plans.md)",
        HelpName = "FILE",
    };

    public readonly Option<string?> PlanIn = new("--plan")
    {
        Description = "Apply exactly this reviewed plan (from --noop --out); refuse, changing nothing, if the host or the manifests changed since",
        HelpName = "FILE",
    };

    public readonly Option<string?> PlanMaxAge = new("--max-age")
    {
        Description = "With --plan: refuse a plan older than this (30s, 15m, 2h, 1d)",
        HelpName = "AGE",
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

    public IEnumerable<Option> ApplyOnly => [Noop, Tags, Json, LockTimeout, VarsFile, Events, PlanOut, PlanIn, PlanMaxAge, .. NotifyOptions];

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
        PlanOut = NonEmpty(p.GetValue(PlanOut)),
        PlanIn = NonEmpty(p.GetValue(PlanIn)),
        PlanMaxAge = ParseAge(p.GetValue(PlanMaxAge)),
        PlanMaxAgeInvalid = NonEmpty(p.GetValue(PlanMaxAge)) is { } age && ParseAge(age) is null ? age : null,
        ConfigFile = ReadConfigFile(p),
        Operator = NonEmpty(p.GetValue(Operator)) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_OPERATOR")),
    };

    /// <summary>A positive age: <c>90</c> (seconds), <c>90s</c>, <c>15m</c>, <c>2h</c>, <c>1d</c>; null when absent or invalid.</summary>
    public static TimeSpan? ParseAge(string? text)
    {
        if (NonEmpty(text) is not { } t) return null;
        t = t.Trim();
        var unit = char.IsAsciiLetter(t[^1]) ? t[^1] : 's';
        var digits = char.IsAsciiLetter(t[^1]) ? t[..^1] : t;
        if (digits.Length is 0 or > 9 || !digits.All(char.IsAsciiDigit)) return null;
        var n = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        if (n <= 0) return null;
        return unit switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
    }

    /// <summary><c>--config</c>, else <c>$CONVERGE_CONFIG</c>, else null (the default file, when it exists).</summary>
    public string? ReadConfigFile(ParseResult p)
        => NonEmpty(p.GetValue(Config)) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_CONFIG"));

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
