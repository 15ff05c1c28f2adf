using Converge.Compiler.Catalog;
using Converge.Providers.Contract;

namespace Converge.Engine;

/// <summary>
/// Makes outcomes safe to show: sensitive properties print <c>(redacted)</c> (values, diffs and argv),
/// and any secret's clear text that still shows up in a message, command or diff is replaced too.
/// Every output seam reads outcomes after this, so none of them has to remember to redact.
/// </summary>
public sealed class Redactor
{
    private readonly string[] _secrets;

    public Redactor(IEnumerable<string> secretValues)
    {
        // Longest first, so a secret containing another is replaced whole. Very short values would
        // shred ordinary text, and cannot be meaningfully hidden anyway.
        _secrets = secretValues.Where(s => s.Length >= 3).Distinct().OrderByDescending(s => s.Length).ToArray();
    }

    public static readonly Redactor None = new([]);

    public string? Scrub(string? text)
    {
        if (text is null || _secrets.Length == 0) return text;
        foreach (var s in _secrets)
            if (text.Contains(s, StringComparison.Ordinal)) text = text.Replace(s, Value.Redacted, StringComparison.Ordinal);
        return text;
    }

    /// <summary>
    /// A path state safe to show: hashes, modes and owners are not secrets (the bucket keys sensitive
    /// content by hash on purpose), but a link target derived from a secret is.
    /// </summary>
    public PathState? Redact(ResourceSpec spec, PathState? state)
    {
        if (state?.Target is not { } target) return state;
        if (spec.IsSensitive("target")) return state with { Target = Value.Redacted };
        return Scrub(target) is var scrubbed && scrubbed != target ? state with { Target = scrubbed } : state;
    }

    public IReadOnlyList<Change> Redact(ResourceSpec? spec, IReadOnlyList<Change> changes)
    {
        if (changes.Count == 0) return changes;
        var result = new List<Change>(changes.Count);
        foreach (var c in changes)
        {
            // `ensure` only ever holds the type's own words (file, absent…), never data, so whether a
            // sensitive file is created or removed stays visible.
            var sensitiveValues = spec is not null && spec.IsSensitive(c.Property) && c.Property != "ensure";
            if (sensitiveValues)
            {
                result.Add(c with
                {
                    From = c.From is null ? null : Value.Redacted,
                    To = c.To is null ? null : Value.Redacted,
                    UnifiedDiff = c.UnifiedDiff is null ? null : Value.Redacted,
                    Argv = RedactArgv(spec!, c, sensitive: true),
                });
            }
            else if (_secrets.Length > 0 || c.SensitiveArgs is { Count: > 0 } || spec is { Sensitive: true })
            {
                result.Add(c with
                {
                    From = Scrub(c.From),
                    To = Scrub(c.To),
                    UnifiedDiff = Scrub(c.UnifiedDiff),
                    Argv = RedactArgv(spec, c, sensitive: false),
                });
            }
            else result.Add(c);
        }
        return result;
    }

    /// <summary>
    /// The command as views show it: only the elements the provider marked sensitive become
    /// <c>(redacted)</c>, so the plan still shows what runs (<c>usermod --password '(redacted)' deploy</c>).
    /// A sensitive change whose provider marks nothing, and any command of a resource marked
    /// <c>sensitive: true</c> (its argv carries every property), is redacted whole.
    /// </summary>
    private IReadOnlyList<string>? RedactArgv(ResourceSpec? spec, Change c, bool sensitive)
    {
        if (c.Argv is null) return null;
        if (spec is { Sensitive: true } || (sensitive && c.SensitiveArgs is null)) return [Value.Redacted];
        return c.MaskedArgv()!.Select(a => Scrub(a)!).ToList();
    }
}
