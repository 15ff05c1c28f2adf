namespace Converge.Notify;

/// <summary>
/// How much history a host keeps: run reports in <c>STATE/reports</c> and file versions in
/// <c>STATE/bucket</c>. The <c>retention:</c> block of converge.yaml and agent.yaml (one schema, read by
/// <see cref="RetentionConfigReader"/>); the defaults are the same for manual runs and the agent, since
/// both prune the same state directory (docs/config.md).
/// </summary>
public sealed record RetentionConfig
{
    /// <summary>The settings when nothing is configured.</summary>
    public static readonly RetentionConfig Default = new();

    /// <summary>At most this many reports are kept (the newest).</summary>
    public int ReportsKeep { get; init; } = 200;

    /// <summary>Reports of runs older than this are pruned; the newest report is always kept.</summary>
    public TimeSpan ReportsMaxAge { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Per file path, at most this many stored versions (the newest).</summary>
    public int BucketVersionsPerPath { get; init; } = 10;

    /// <summary>Versions stored longer ago than this are pruned.</summary>
    public TimeSpan BucketMaxAge { get; init; } = TimeSpan.FromDays(90);

    /// <summary>The bucket's content is kept under this many bytes, newest first.</summary>
    public long BucketMaxSize { get; init; } = 1L << 30;
}
