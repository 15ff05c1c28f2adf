using Converge.Compiler.Catalog;

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

    /// <summary>
    /// Positions in <see cref="Argv"/> that carry a sensitive value (the hash of
    /// <c>usermod --password HASH NAME</c>). Views show <c>(redacted)</c> in their place and the rest of
    /// the command as it runs. Null means the provider does not say: the engine then redacts the whole
    /// argv of a sensitive change, since it cannot tell which part is the secret. Empty: nothing in the
    /// argv is sensitive (the value travels on stdin, say).
    /// </summary>
    public IReadOnlySet<int>? SensitiveArgs { get; init; }

    /// <summary><see cref="Argv"/> with each element listed in <see cref="SensitiveArgs"/> replaced by <c>(redacted)</c>.</summary>
    public IReadOnlyList<string>? MaskedArgv()
    {
        if (Argv is null || SensitiveArgs is not { Count: > 0 } secret) return Argv;
        var masked = new string[Argv.Count];
        for (var i = 0; i < masked.Length; i++) masked[i] = secret.Contains(i) ? Value.Redacted : Argv[i];
        return masked;
    }
}
