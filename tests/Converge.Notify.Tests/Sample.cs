using Converge.Compiler.Catalog;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Providers.Contract;
using Converge.Reporting;

namespace Converge.Notify.Tests;

/// <summary>One run with every kind of outcome, the engine's redaction already applied (as in a real run).</summary>
internal static class Sample
{
    private static readonly SourceSpan Span = new("site.yaml", 3, 5, 3, 9);

    private static ResourceOutcome Outcome(string type, string title, OutcomeStatus status, IReadOnlyList<Change>? changes = null)
        => new(new ResourceId(type, title), status, changes ?? [], TimeSpan.FromMilliseconds(1.5), Span);

    public static RunNotice Notice(bool noop = false, string? previous = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
    {
        var changed = noop ? OutcomeStatus.WouldChange : OutcomeStatus.Changed;
        var outcomes = new List<ResourceOutcome>
        {
            Outcome("directory", "/srv/app", OutcomeStatus.Unchanged),
            Outcome("file", "/srv/app/app.ini", changed,
            [
                new Change("content", "{sha256}aaaa", "{sha256}bbbb", UnifiedDiff: "--- a\n+++ b\n-workers = 2\n+workers = 4\n") { Backup = "aaaa" },
                new Change("mode", "0644", "0640"),
            ]),
            Outcome("file", "/srv/app/secret.conf", changed, [new Change("content", "(redacted)", "(redacted)")]),
            Outcome("exec", "migrate", noop ? OutcomeStatus.Unknown : OutcomeStatus.Failed) with
            {
                Message = noop ? null : "command /usr/bin/app-migrate exited 3: database is locked",
            },
            Outcome("link", "/srv/app/current", OutcomeStatus.Skipped) with { Message = "dependency exec[migrate] failed" },
        };
        var result = new RunResult(outcomes, noop, false, TimeSpan.FromMilliseconds(213.4));
        var started = new DateTimeOffset(2026, 11, 27, 3, 0, 0, TimeSpan.Zero);
        var context = new RunContext("20261127T030000Z-abcdef", "web-01", "root", "alice", "/srv/manifests",
            new Revision("3f2a1c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "Alice <alice@example.com>", "raise worker count", started, false)
            {
                Committer = "Bob <bob@example.com>",
            }, started)
        {
            Operator = "carol@laptop",
        };
        return RunNotice.FromRun(context, "web-01", result, started.AddMilliseconds(250), previous);
    }
}
