namespace Converge.Notify;

/// <summary>Which runs a webhook is told about.</summary>
[Flags]
public enum NotifyOn
{
    None = 0,

    /// <summary>Runs that changed something (with <c>noop: true</c>, also previews with pending changes).</summary>
    Changes = 1,

    /// <summary>Runs with a failed resource, and runs whose manifests did not load.</summary>
    Failures = 2,
}

/// <summary>Where the run's notice goes, from the <c>notify:</c> block (docs/notifications.md). Empty: nowhere.</summary>
public sealed record NotifyConfig
{
    public static readonly NotifyConfig Empty = new();

    public IReadOnlyList<WebhookConfig> Webhooks { get; init; } = [];

    public GraphiteConfig? Graphite { get; init; }

    /// <summary>
    /// The hard bound on all deliveries together, counted from the moment the report is saved: what is
    /// not delivered by then is abandoned with a warning, and the run ends.
    /// </summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(5);

    public bool IsEmpty => Webhooks.Count == 0 && Graphite is null;
}

/// <summary>One webhook. <see cref="Url"/> and <see cref="Headers"/> may carry tokens: they are never printed or logged.</summary>
public sealed record WebhookConfig
{
    public required Uri Url { get; init; }

    /// <summary><c>json</c> (the generic body) or <c>slack</c> (<c>{"text": ...}</c>, also Mattermost).</summary>
    public WebhookFormat Format { get; init; } = WebhookFormat.Json;

    public NotifyOn On { get; init; } = NotifyOn.Changes | NotifyOn.Failures;

    /// <summary>Also notify for <c>--noop</c> runs (pending changes count as changes).</summary>
    public bool Noop { get; init; }

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>A link to the revision diff, with <c>{{old}}</c>, <c>{{new}}</c> and <c>{{host}}</c> replaced.</summary>
    public string? Link { get; init; }

    /// <summary>One attempt's bound (connect, send, answer).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts after the first one when an attempt fails (no answer, 5xx, 429).</summary>
    public int Retries { get; init; } = 2;

    /// <summary>How the webhook is named in logs: its scheme, host and port, never its path or query (tokens live there).</summary>
    public string Display => $"{Url.Scheme}://{Url.Authority}";
}

public enum WebhookFormat
{
    Json,
    Slack,
}

/// <summary>A Graphite (carbon) plaintext receiver.</summary>
public sealed record GraphiteConfig
{
    public required string Host { get; init; }
    public int Port { get; init; } = 2003;

    /// <summary>The first part of every metric path: <c>PREFIX.HOST.run.changed</c>.</summary>
    public string Prefix { get; init; } = "converge";

    /// <summary>Bound on connecting and sending.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Also send the numbers of <c>--noop</c> runs (as <c>PREFIX.HOST.noop.*</c>).</summary>
    public bool Noop { get; init; }
}
