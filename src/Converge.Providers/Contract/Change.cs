namespace Converge.Providers.Contract;

/// <summary>
/// One property going from what it is to what it should be. <see cref="Argv"/> is the exact command a
/// provider will run for it (so <c>--noop</c> shows commands), <see cref="UnifiedDiff"/> the content
/// diff, <see cref="Backup"/> the bucket hash the old content is saved under. Values are display text:
/// the engine replaces them with <c>(redacted)</c> when the property is sensitive.
/// </summary>
public sealed record Change(string Property, string? From, string? To,
    IReadOnlyList<string>? Argv = null, string? UnifiedDiff = null)
{
    public string? Backup { get; init; }
}
