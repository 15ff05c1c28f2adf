using System.Globalization;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Manifests.Diagnostics;

namespace Converge.Providers.Common;

/// <summary>
/// Reads a catalog resource's properties into typed values for a provider's spec, reporting every
/// problem to the diagnostic bag (never throwing): each diagnostic carries the offending value's
/// span and the resource id, and never quotes a sensitive value. Creating a reader reports unknown
/// properties at once; each accessor returns null (or the given default) when the property is absent,
/// written as YAML null, or invalid — check <see cref="HasErrors"/> before building the spec.
/// </summary>
/// <remarks>
/// Accepted forms, in one place so every type reads them alike:
/// <list type="bullet">
/// <item>bool: <c>true</c> or <c>false</c>, nothing else (no yes/no/on/off — YAML 1.1's surprises).</item>
/// <item>mode: 3 or 4 octal digits with an optional extra leading 0, quoted or not (<c>0644</c>,
/// <c>"0644"</c>, <c>644</c>, <c>"2775"</c>). A plain <c>644</c> means octal 0644, as in Puppet; Converge
/// reads the digits as written, never a YAML integer value, so <c>0644</c> and <c>644</c> agree.
/// Anything else is rejected, including YAML 1.2's <c>0o644</c> and digits 8/9 (<c>420</c> is accepted
/// as octal 0420 — there is no way to tell a decimal mistake from a deliberate mode).</item>
/// <item>duration: a positive whole number of seconds (<c>30</c>) or with a unit <c>s</c>, <c>m</c>, <c>h</c>.</item>
/// <item>path: absolute and normalized (no <c>.</c>, <c>..</c>, <c>//</c> or trailing <c>/</c>).</item>
/// </list>
/// </remarks>
public sealed class SpecReader
{
    private readonly DiagnosticBag _diagnostics;
    private HashSet<string>? _sensitive; // most resources have no secret: allocate on the first one
    private int _errors;

    /// <summary>Starts reading <paramref name="resource"/>; reports every property not in <paramref name="propertyNames"/> (CVG4001).</summary>
    public SpecReader(CatalogResource resource, IReadOnlyCollection<string> propertyNames, DiagnosticBag diagnostics)
    {
        Resource = resource;
        _diagnostics = diagnostics;
        foreach (var (name, value) in resource.Properties)
        {
            if (!propertyNames.Contains(name))
            {
                var span = resource.PropertyKeySpans.TryGetValue(name, out var keySpan) ? keySpan : value.Span;
                Error(DiagnosticCodes.UnknownProperty, span,
                    $"unknown property '{name}' for type {resource.Type}{Suggest.DidYouMean(name, propertyNames)}");
            }
            else if (ContainsSecret(value))
            {
                (_sensitive ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
            }
        }
    }

    /// <summary>The resource being read.</summary>
    public CatalogResource Resource { get; }

    /// <summary>True once this reader has reported an error (errors of other resources in the bag do not count).</summary>
    public bool HasErrors => _errors > 0;

    /// <summary>Properties whose values derived from a secret: goes into <see cref="Contract.ResourceSpec.SensitiveProperties"/>.</summary>
    public IReadOnlySet<string> SensitiveProperties => (IReadOnlySet<string>?)_sensitive ?? Contract.ResourceSpec.NoSensitiveProperties;

    /// <summary>True when the property is written and not YAML null.</summary>
    public bool Has(string name) => Get(name) is not null;

    /// <summary>Where the property's value was written, or the resource's span when it was not.</summary>
    public SourceSpan SpanOf(string name) => Get(name)?.Span ?? Resource.Span;

    /// <summary>Reports an error about this resource (with its id as the subject).</summary>
    public void Error(string code, SourceSpan span, string message)
    {
        _errors++;
        _diagnostics.Error(code, span, message, Resource.Id.ToString());
    }

    /// <summary>Reports CVG4002 at the resource when <paramref name="name"/> is not set; <paramref name="condition"/> explains when it is required.</summary>
    public void Require(string name, string? condition = null)
    {
        if (!Has(name))
            Error(DiagnosticCodes.MissingProperty, Resource.Span,
                $"missing required property '{name}'{(condition is null ? "" : " " + condition)}");
    }

    /// <summary>
    /// Warns (CVG4013, at each key) about properties that are set but have no effect because of
    /// <paramref name="condition"/> (e.g. "ensure is absent"). A warning, not an error: the run is still safe.
    /// </summary>
    public void Ineffective(string condition, params string[] names)
    {
        foreach (var name in names)
        {
            if (!Has(name)) continue;
            var span = Resource.PropertyKeySpans.TryGetValue(name, out var keySpan) ? keySpan : SpanOf(name);
            _diagnostics.Warning(DiagnosticCodes.IneffectiveProperty, span, $"{name} has no effect when {condition}", Resource.Id.ToString());
        }
    }

    /// <summary>Reports CVG4010 at the second property when both are set.</summary>
    public void Conflict(string first, string second)
    {
        if (Has(first) && Has(second))
            Error(DiagnosticCodes.ConflictingProperties, SpanOf(second),
                $"{first} and {second} cannot both be set; choose one");
    }

    /// <summary>A scalar as text.</summary>
    public string? String(string name)
    {
        var scalar = Scalar(name);
        return scalar?.Text;
    }

    /// <summary><c>true</c> or <c>false</c> (quoted or not); anything else is CVG4005.</summary>
    public bool? Bool(string name)
    {
        if (Scalar(name) is not { } scalar) return null;
        switch (scalar.Text)
        {
            case "true": return true;
            case "false": return false;
            default:
                Error(DiagnosticCodes.InvalidBool, scalar.Span, $"{name} must be true or false; got {Show(name, scalar)}");
                return null;
        }
    }

    /// <summary>One of a fixed set of words (several may map to one value, like present and file); anything else is CVG4006 with did-you-mean.</summary>
    public T? Choice<T>(string name, IReadOnlyList<KeyValuePair<string, T>> choices) where T : struct
    {
        if (Scalar(name) is not { } scalar) return null;
        foreach (var (word, value) in choices)
            if (word == scalar.Text) return value;
        var words = choices.Select(c => c.Key).ToList();
        var hint = IsSensitive(name) ? "" : Suggest.DidYouMean(scalar.Text, words);
        Error(DiagnosticCodes.InvalidChoice, scalar.Span,
            $"{name} must be one of {string.Join(", ", words)}; got {Show(name, scalar)}{hint}");
        return null;
    }

    /// <summary>A permission mode; see the class remarks for the accepted forms. Invalid is CVG4004.</summary>
    public UnixMode? Mode(string name)
    {
        if (Scalar(name) is not { } scalar) return null;
        var text = scalar.Text;
        // UnixMode.TryParse also trims and takes 5 digits; the length check keeps "00644"-style
        // padding to the one extra leading zero ops actually write ("02775").
        var wellFormed = text.Length is 3 or 4 || (text.Length == 5 && text[0] == '0');
        if (wellFormed && text.All(c => c is >= '0' and <= '7') && UnixMode.TryParse(text, out var mode))
            return mode;
        Error(DiagnosticCodes.InvalidMode, scalar.Span,
            $"{name} must be an octal string such as \"0644\"; got {Show(name, scalar)}");
        return null;
    }

    /// <summary>A user or group: a name or a numeric id. Invalid is CVG4012.</summary>
    public Principal? Principal(string name)
    {
        if (Scalar(name) is not { } scalar) return null;
        if (Common.Principal.IsValid(scalar.Text)) return new Principal(scalar.Text);
        Error(DiagnosticCodes.InvalidPrincipal, scalar.Span,
            $"{name} must be a user or group name or a numeric id; got {Show(name, scalar)}");
        return null;
    }

    /// <summary>
    /// A command: a string runs through <c>/bin/sh -c</c>, a list of strings is the argv. An empty
    /// string or list is CVG4011; a list item that is not a string is CVG4003.
    /// </summary>
    public CommandLine? Command(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case ScalarValue scalar:
                if (scalar.Text.Trim().Length == 0)
                {
                    Error(DiagnosticCodes.InvalidCommand, scalar.Span, $"{name} must not be empty");
                    return null;
                }
                return CommandLine.FromShell(scalar.Text);
            case ListValue list:
                var argv = Strings(name, list);
                if (argv is null) return null;
                if (argv.Count == 0 || argv[0].Length == 0)
                {
                    Error(DiagnosticCodes.InvalidCommand, list.Span, $"{name} must not be empty; give the program first, then its arguments");
                    return null;
                }
                return CommandLine.FromArgv(argv);
            case var other:
                WrongKind(name, other, "a string or a list of strings");
                return null;
        }
    }

    /// <summary>A list of strings; a single string is a list of one. A list item that is not a string is CVG4003.</summary>
    public IReadOnlyList<string>? StringList(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case ScalarValue scalar:
                return [scalar.Text];
            case ListValue list:
                return Strings(name, list);
            case var other:
                WrongKind(name, other, "a list of strings");
                return null;
        }
    }

    /// <summary>An integer or a list of integers (<c>returns: 0</c>, <c>returns: [0, 2]</c>). Invalid is CVG4007.</summary>
    public IReadOnlyList<int>? IntList(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case ScalarValue scalar:
                return Int(name, scalar) is { } single ? [single] : null;
            case ListValue list:
                var result = new List<int>();
                var ok = true;
                foreach (var item in list.Items)
                {
                    if (item is ScalarValue s && !s.IsNull && Int(name, s) is { } n) result.Add(n);
                    else
                    {
                        if (item is not ScalarValue { IsNull: false }) WrongKind(name, item, "an integer");
                        ok = false;
                    }
                }
                return ok ? result : null;
            case var other:
                WrongKind(name, other, "an integer or a list of integers");
                return null;
        }
    }

    /// <summary>A map of strings to strings (<c>environment</c>). A nested list or map is CVG4003.</summary>
    public IReadOnlyDictionary<string, string>? StringMap(string name)
    {
        switch (Get(name))
        {
            case null:
                return null;
            case MapValue map:
                var result = new Dictionary<string, string>(StringComparer.Ordinal);
                var ok = true;
                foreach (var (key, value) in map.Entries)
                {
                    if (value is ScalarValue s) result[key] = s.IsNull ? "" : s.Text;
                    else
                    {
                        Error(DiagnosticCodes.WrongKind, value.Span, $"{name}.{key} must be a string; got {value.KindName}");
                        ok = false;
                    }
                }
                return ok ? result : null;
            case var other:
                WrongKind(name, other, "a map of names to strings");
                return null;
        }
    }

    /// <summary>A positive duration: <c>30</c> (seconds), <c>30s</c>, <c>5m</c>, <c>1h</c>. Invalid is CVG4008.</summary>
    public TimeSpan? Duration(string name)
    {
        if (Scalar(name) is not { } scalar) return null;
        var text = scalar.Text.Trim();
        var unit = 's';
        var digits = text;
        if (text.Length > 0 && char.IsAsciiLetter(text[^1]))
        {
            unit = text[^1];
            digits = text[..^1];
        }
        if (digits.Length is > 0 and <= 9 && digits.All(char.IsAsciiDigit)
            && int.Parse(digits, CultureInfo.InvariantCulture) is var n and > 0)
        {
            switch (unit)
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
            }
        }
        Error(DiagnosticCodes.InvalidDuration, scalar.Span,
            $"{name} must be a positive duration such as 30, 30s, 5m or 1h; got {Show(name, scalar)}");
        return null;
    }

    /// <summary>An absolute, normalized path. Otherwise CVG4009, suggesting the normalized form when there is one.</summary>
    public string? AbsolutePath(string name)
    {
        if (Scalar(name) is not { } scalar) return null;
        return CheckPath(name, scalar.Text, scalar.Span, IsSensitive(name));
    }

    /// <summary>The title as an absolute, normalized path (file-like types); otherwise CVG4009 at the title.</summary>
    public string? TitlePath()
    {
        var span = Resource.TitleSpan.IsNone ? Resource.Span : Resource.TitleSpan;
        return CheckPath("title", Resource.Title, span, Resource.Sensitive);
    }

    /// <summary>True when messages must not quote the property's value.</summary>
    public bool IsSensitive(string name) => Resource.Sensitive || (_sensitive?.Contains(name) ?? false);

    /// <summary>
    /// True for "/" and for paths starting with '/' that have no empty, "." or ".." segment and no
    /// trailing '/': the one spelling under which two resources for one path get one id.
    /// </summary>
    public static bool IsNormalizedAbsolute(string path)
    {
        if (path == "/") return true;
        if (!path.StartsWith('/') || path.EndsWith('/') || path.Contains('\0')) return false;
        foreach (var segment in path[1..].Split('/'))
            if (segment is "" or "." or "..") return false;
        return true;
    }

    private string? CheckPath(string name, string path, SourceSpan span, bool sensitive)
    {
        if (IsNormalizedAbsolute(path)) return path;
        var shown = sensitive ? Value.Redacted : path;
        var hint = "";
        if (!sensitive && path.StartsWith('/') && !path.Contains('\0'))
        {
            var normalized = System.IO.Path.GetFullPath(path);
            if (normalized.Length > 1) normalized = normalized.TrimEnd('/');
            hint = $"; write {normalized}";
        }
        Error(DiagnosticCodes.InvalidPath, span,
            $"{name} must be an absolute, normalized path such as /etc/motd; got {shown}{hint}");
        return null;
    }

    // A list or map is as secret as its most secret item: one secret argv word makes the command secret.
    private static bool ContainsSecret(Value value) => value switch
    {
        { Sensitive: true } => true,
        ListValue list => list.Items.Any(ContainsSecret),
        MapValue map => map.Entries.Any(e => ContainsSecret(e.Value)),
        _ => false,
    };

    private Value? Get(string name) =>
        Resource.Properties.TryGetValue(name, out var value) && value is not ScalarValue { IsNull: true } ? value : null;

    private ScalarValue? Scalar(string name)
    {
        var value = Get(name);
        if (value is null or ScalarValue) return (ScalarValue?)value;
        WrongKind(name, value, "a string");
        return null;
    }

    private List<string>? Strings(string name, ListValue list)
    {
        var result = new List<string>(list.Items.Count);
        var ok = true;
        foreach (var item in list.Items)
        {
            if (item is ScalarValue { IsNull: false } s) result.Add(s.Text);
            else
            {
                Error(DiagnosticCodes.WrongKind, item.Span, $"each item of {name} must be a string; got {item.KindName}");
                ok = false;
            }
        }
        return ok ? result : null;
    }

    private int? Int(string name, ScalarValue scalar)
    {
        if (int.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
        Error(DiagnosticCodes.InvalidInteger, scalar.Span, $"{name} must be an integer; got {Show(name, scalar)}");
        return null;
    }

    private void WrongKind(string name, Value value, string expected) =>
        Error(DiagnosticCodes.WrongKind, value.Span, $"{name} must be {expected}; got {value.KindName}");

    private string Show(string name, ScalarValue scalar)
    {
        if (scalar.Sensitive || IsSensitive(name)) return Value.Redacted;
        return scalar.Quoted ? $"\"{scalar.Text}\"" : scalar.Text;
    }
}
