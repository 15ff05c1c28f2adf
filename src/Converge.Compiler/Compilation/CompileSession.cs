using System.Text;
using System.Text.Json;
using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Compiler.Compilation;

/// <summary>
/// One compile: loads the site (or single manifest), selects the node entry, builds vars, includes
/// modules with their params, and expands every resource list, collecting all diagnostics.
/// Order of the catalog: at each level (site, node entry, module) its includes, then its resources.
/// </summary>
internal sealed class CompileSession
{
    /// <summary>The keys site.yaml may have.</summary>
    public static readonly string[] SiteKeys = ["vars", "secrets", "nodes", "include", "resources"];
    /// <summary>The keys a single manifest file may have.</summary>
    public static readonly string[] ManifestKeys = ["vars", "secrets", "include", "resources"];
    /// <summary>The keys of a <c>nodes:</c> entry.</summary>
    public static readonly string[] NodeKeys = ["match", "when", "vars", "include", "resources"];

    // Secrets shorter than this are not scrubbed from messages: replacing every "a" would make
    // diagnostics unreadable, and such values are not secrets anyone relies on.
    private const int MinScrubLength = 3;

    private readonly CompileRequest _request;
    private readonly DiagnosticBag _diagnostics = new();
    private readonly Interpolator _interpolator;
    private readonly SecretScope _secrets;
    private readonly ResourceExpander _expander;
    private readonly List<string> _files = new();
    private readonly HashSet<string> _fileSet = new(StringComparer.Ordinal);
    private readonly List<string> _modules = new();
    private readonly Dictionary<string, (string Canonical, SourceSpan Site)> _compiled = new(StringComparer.Ordinal);
    private readonly List<(string Name, SourceSpan Site)> _includeStack = new();
    private readonly object? _facts;
    private readonly TrackedObject _noParams;
    private ModuleResolver? _resolver;
    private TrackedObject? _globalVars;
    private TrackedObject? _globalSecrets;

    public CompileSession(CompileRequest request)
    {
        _request = request;
        _interpolator = new Interpolator(_diagnostics);
        var tracker = _interpolator.Tracker;
        _secrets = new SecretScope(request.Secrets, tracker, _diagnostics);
        var templates = new TemplateRenderer(_interpolator, _diagnostics, RecordFile);
        _expander = new ResourceExpander(request.Types, _interpolator, templates, _diagnostics, RecordFile);
        _facts = ScriptValues.FromJson(request.Facts, tracker, "facts");
        _noParams = new TrackedObject(tracker, "params");
    }

    private TaintTracker Tracker => _interpolator.Tracker;

    public CompileResult Run()
    {
        var (file, isSite) = Locate();
        if (file is not null) CompileRoot(file, isSite);

        var diagnostics = Scrub(_diagnostics.Sorted());
        var compiled = new ResourceCatalog(_request.NodeName, _expander.Resources.ToList(), _modules.ToList(), _secrets.Values.ToList());
        return new CompileResult(_diagnostics.HasErrors ? null : compiled, diagnostics, _files.ToList())
        {
            Partial = compiled,
        };
    }

    private (string? File, bool IsSite) Locate()
    {
        var path = _request.Path;
        if (Directory.Exists(path))
        {
            var site = Path.Combine(path, "site.yaml");
            if (File.Exists(site)) return (site, true);
            // No manifest position exists yet: the problem is the path itself.
            _diagnostics.Error(CompilerCodes.PathProblem, SourceSpan.None,
                $"{path} has no site.yaml; a manifest repo needs site.yaml at its root (or pass a single manifest file)");
            return (null, false);
        }
        if (File.Exists(path)) return (path, Path.GetFileName(path) == "site.yaml");
        _diagnostics.Error(CompilerCodes.PathProblem, SourceSpan.None,
            $"{path} does not exist; pass a manifest repo directory (with site.yaml) or a manifest file");
        return (null, false);
    }

    private void CompileRoot(string file, bool isSite)
    {
        if (Load(file) is not { } rootNode) return;
        if (rootNode is not MappingNode root)
        {
            _diagnostics.Error(CompilerCodes.WrongForm, rootNode.Span,
                $"a manifest must be a map with {(isSite ? "vars, secrets, nodes, include, resources" : "resources, vars, secrets, include")}; got {rootNode.KindName}");
            return;
        }
        Keys.Check(root, isSite ? SiteKeys : ManifestKeys, isSite ? "site.yaml" : "a manifest file", _diagnostics);

        var baseDirectory = Path.GetDirectoryName(file) is { Length: > 0 } d ? d : ".";
        _resolver = new ModuleResolver([Path.Combine(baseDirectory, "modules"), .. _request.ModuleSearchPath], Load, _diagnostics);

        _globalSecrets = _secrets.Declare(root["secrets"], Path.GetFullPath(baseDirectory), null);
        var vars = BuildVars(root["vars"], null, _noParams, _globalSecrets, "site");

        MappingNode? entry = null;
        if (isSite)
        {
            var selectScope = Scope.Create(Tracker, _facts, vars, _noParams, _globalSecrets, _request.NodeName);
            entry = SelectNode(root["nodes"], selectScope);
            if (entry is not null) vars = BuildVars(entry["vars"], vars, _noParams, _globalSecrets, "node");
        }
        foreach (var (name, value) in _request.ExtraVars)
        {
            var v = ScriptValues.FromJsonValue(value, SourceSpan.None);
            vars.Set(name, ScriptValues.ToScript(v, Tracker, "vars." + name), tainted: false);
        }
        _globalVars = vars;

        var unit = new UnitContext(null, Path.GetFullPath(baseDirectory),
            Scope.Create(Tracker, _facts, vars, _noParams, _globalSecrets, _request.NodeName));
        Includes(root["include"], unit);
        _expander.Expand(root["resources"], unit);
        if (entry is null) return;
        Includes(entry["include"], unit);
        _expander.Expand(entry["resources"], unit);
    }

    /// <summary>The first node entry whose <c>match</c> glob and <c>when</c> both hold; every entry's keys are checked.</summary>
    private MappingNode? SelectNode(SyntaxNode? nodes, Scope scope)
    {
        if (Keys.List(nodes, "'nodes'", _diagnostics) is not { } list) return null;
        MappingNode? selected = null;
        foreach (var item in list.Items)
        {
            if (Keys.Map(item, "a 'nodes' entry", _diagnostics) is not { } entry) continue;
            Keys.Check(entry, NodeKeys, "a 'nodes' entry", _diagnostics);
            if (entry["match"] is null && entry["when"] is null)
            {
                _diagnostics.Error(CompilerCodes.NodeEntryWithoutSelector, entry.Span,
                    "a 'nodes' entry needs 'match: <glob on the node name>' and/or 'when: <expression over facts>'; use match: \"*\" for every node");
                continue;
            }
            if (selected is not null) continue;
            if (entry["match"] is { } match && !Matches(match)) continue;
            if (entry["when"] is { } when && _expander.When(when, scope, null) is not true) continue;
            selected = entry;
        }
        return selected;
    }

    private bool Matches(SyntaxNode match)
    {
        IReadOnlyList<SyntaxNode> globs = match is SequenceNode seq ? seq.Items : [match];
        var any = false;
        foreach (var g in globs)
        {
            if (g is not ScalarNode { IsNull: false } s)
            {
                _diagnostics.Error(CompilerCodes.WrongForm, g.Span, $"'match' must be a glob on the node name, like \"web-*\", or a list of them; got {g.KindName}");
                continue;
            }
            if (!Glob.IsValid(s.Value))
            {
                _diagnostics.Error(CompilerCodes.WrongForm, s.Span, $"'match' pattern '{s.Value}' is not a valid glob; use *, ? and character classes like [0-9]");
                continue;
            }
            if (!any && Glob.IsMatch(s.Value, _request.NodeName)) any = true;
        }
        return any;
    }

    /// <summary>
    /// A <c>vars</c> object: <paramref name="inherited"/> overlaid with <paramref name="node"/>'s entries,
    /// each interpolated in order (so a var may use facts, params, secrets and the vars before it).
    /// </summary>
    private TrackedObject BuildVars(SyntaxNode? node, TrackedObject? inherited, TrackedObject parameters, TrackedObject secrets, string where)
    {
        var vars = new TrackedObject(Tracker, "vars");
        if (inherited is not null)
            foreach (var name in inherited.GetMembers())
                vars.Set(name, inherited.Get(name), inherited.IsTainted(name));
        if (Keys.Map(node, $"'vars' of {where}", _diagnostics) is not { } map) return vars;
        var scope = Scope.Create(Tracker, _facts, vars, parameters, secrets, _request.NodeName);
        foreach (var e in map.Entries)
            if (_interpolator.Node(e.Value, scope, null, false) is { } value)
                vars.Set(e.Key.Value, ScriptValues.ToScript(value, Tracker, "vars." + e.Key.Value), ScriptValues.IsTainted(value));
        return vars;
    }

    private void Includes(SyntaxNode? node, UnitContext includer)
    {
        if (Keys.List(node, "'include'", _diagnostics) is not { } list) return;
        foreach (var item in list.Items)
        {
            switch (item)
            {
                case ScalarNode { IsNull: false } name:
                    Include(name.Value, name.Span, null, includer);
                    break;
                case MappingNode { Entries.Count: 1 } map:
                {
                    var (key, value) = (map.Entries[0].Key, map.Entries[0].Value);
                    if (value is ScalarNode { IsNull: true }) Include(key.Value, key.Span, null, includer);
                    else if (Keys.Map(value, $"the params of include '{key.Value}'", _diagnostics) is { } args)
                        Include(key.Value, key.Span, args, includer);
                    break;
                }
                default:
                    _diagnostics.Error(CompilerCodes.WrongForm, item.Span,
                        $"an include is a module name ('- base') or a one-key map with its params ('- nginx: {{ workers: 4 }}'); got {item.KindName}");
                    break;
            }
        }
    }

    private void Include(string name, SourceSpan site, MappingNode? args, UnitContext includer)
    {
        var cycleStart = _includeStack.FindIndex(i => i.Name == name);
        if (cycleStart >= 0)
        {
            var chain = string.Join(" -> ", _includeStack.Skip(cycleStart).Select(i => i.Name).Append(name));
            _diagnostics.Error(CompilerCodes.IncludeCycle, site,
                $"include cycle: {chain} (module '{name}' was included at {_includeStack[cycleStart].Site}); remove one of these includes");
            return;
        }
        if (_resolver!.Resolve(name, site) is not { } module) return;
        if (Bind(module, args, site, includer.Scope) is not { } bound) return;

        var canonical = Canonical(bound);
        if (_compiled.TryGetValue(name, out var previous))
        {
            if (previous.Canonical != canonical)
                _diagnostics.Error(CompilerCodes.ConflictingInclude, site,
                    $"module '{name}' is included here and at {previous.Site} with different params; a module is compiled once per node, so include it with the same params everywhere");
            return;
        }
        _compiled[name] = (canonical, site);
        _modules.Add(name);

        var parameters = new TrackedObject(Tracker, "params");
        foreach (var (param, value, type) in bound)
            parameters.Set(param, value is null ? null : ScriptValues.ToScript(value, Tracker, "params." + param, type),
                value is not null && ScriptValues.IsTainted(value));
        var secrets = _secrets.Declare(module.Root["secrets"], Path.GetFullPath(module.Directory), _globalSecrets);
        var vars = BuildVars(module.Root["vars"], _globalVars, parameters, secrets, $"module '{name}'");
        var unit = new UnitContext(name, Path.GetFullPath(module.Directory),
            Scope.Create(Tracker, _facts, vars, parameters, secrets, _request.NodeName));

        _includeStack.Add((name, site));
        Includes(module.Root["include"], unit);
        _expander.Expand(module.Root["resources"], unit);
        _includeStack.RemoveAt(_includeStack.Count - 1);
    }

    /// <summary>
    /// Checks the include's params against the module's declarations and applies defaults. Null when
    /// any is wrong (all problems are reported). A param with neither value nor default is null.
    /// </summary>
    private List<(string Name, Value? Value, ParamType Type)>? Bind(ModuleDefinition module, MappingNode? args, SourceSpan site, Scope includerScope)
    {
        var declared = module.Params.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var given = new Dictionary<string, Value>(StringComparer.Ordinal);
        var ok = true;
        foreach (var e in args?.Entries ?? [])
        {
            if (!declared.ContainsKey(e.Key.Value))
            {
                var list = declared.Count == 0 ? "it takes no params" : "its params are: " + string.Join(", ", declared.Keys);
                _diagnostics.Error(CompilerCodes.UnknownParam, e.Key.Span,
                    $"module '{module.Name}' has no param '{e.Key.Value}'{Suggest.DidYouMean(e.Key.Value, declared.Keys)}; {list}");
                ok = false;
                continue;
            }
            if (_interpolator.Node(e.Value, includerScope, null, false) is { } v) given[e.Key.Value] = v;
            else ok = false;
        }

        var result = new List<(string, Value?, ParamType)>();
        Scope? defaultsScope = null;
        foreach (var p in module.Params)
        {
            if (given.TryGetValue(p.Name, out var value))
            {
                if (!CheckType(module, p, value)) ok = false;
                result.Add((p.Name, value, p.Type));
            }
            else if (p.Default is not null)
            {
                // Defaults see facts, the node's vars and secrets, but not other params.
                defaultsScope ??= Scope.Create(Tracker, _facts, _globalVars!, _noParams, _globalSecrets!, _request.NodeName);
                var d = _interpolator.Node(p.Default, defaultsScope, null, false);
                if (d is null || !CheckType(module, p, d)) ok = false;
                result.Add((p.Name, d, p.Type));
            }
            else if (p.Required)
            {
                _diagnostics.Error(CompilerCodes.MissingParam, site,
                    $"module '{module.Name}' requires param '{p.Name}'{TypeSuffix(p.Type)} (declared at {p.Span}); pass it: '- {module.Name}: {{ {p.Name}: ... }}'");
                ok = false;
            }
            else
            {
                result.Add((p.Name, null, p.Type));
            }
        }
        return ok ? result : null;
    }

    private bool CheckType(ModuleDefinition module, ParamDeclaration p, Value value)
    {
        var fits = p.Type switch
        {
            ParamType.String => value is ScalarValue,
            ParamType.Int => value is ScalarValue s && long.TryParse(s.Text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _),
            ParamType.Bool => value is ScalarValue s && ScriptValues.TryBool(s.Text, out _),
            ParamType.List => value is ListValue,
            ParamType.Map => value is MapValue,
            _ => true,
        };
        if (fits) return true;
        var expected = p.Type switch
        {
            ParamType.String => "a string",
            ParamType.Int => "an int",
            ParamType.Bool => "true or false",
            ParamType.List => "a list",
            _ => "a map",
        };
        // Never quote the value: it may have been computed from a secret.
        var got = value is ScalarValue ? (p.Type is ParamType.Int or ParamType.Bool ? "a string that is not one" : "a string") : value.KindName;
        _diagnostics.Error(CompilerCodes.ParamTypeMismatch, value.Span,
            $"param '{p.Name}' of module '{module.Name}' must be {expected}; got {got}");
        return false;
    }

    private static string TypeSuffix(ParamType type) => type == ParamType.Any ? "" : $" ({type.ToString().ToLowerInvariant()})";

    private static string Canonical(List<(string Name, Value? Value, ParamType Type)> bound)
    {
        var sb = new StringBuilder();
        foreach (var (name, value, _) in bound) { sb.Append(name).Append('='); Append(sb, value); sb.Append(';'); }
        return sb.ToString();

        static void Append(StringBuilder sb, Value? v)
        {
            switch (v)
            {
                case null: sb.Append('~'); break;
                case ScalarValue s: sb.Append('"').Append(JsonEncodedText.Encode(s.Text).Value).Append('"'); break;
                case ListValue l:
                    sb.Append('[');
                    foreach (var i in l.Items) { Append(sb, i); sb.Append(','); }
                    sb.Append(']');
                    break;
                case MapValue m:
                    sb.Append('{');
                    foreach (var (k, i) in m.Entries) { sb.Append('"').Append(JsonEncodedText.Encode(k).Value).Append("\":"); Append(sb, i); sb.Append(','); }
                    sb.Append('}');
                    break;
            }
        }
    }

    private SyntaxNode? Load(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _diagnostics.Error(CompilerCodes.PathProblem, SourceSpan.None, $"cannot read {file}: {e.Message}");
            return null;
        }
        RecordFile(file);
        return YamlLoader.Load(file, text, _diagnostics);
    }

    private void RecordFile(string file)
    {
        if (_fileSet.Add(file)) _files.Add(file);
    }

    /// <summary>
    /// The last line of defence: messages are written never to quote values, but a Scriban runtime
    /// message can echo an operand, so any secret text left in a message is replaced.
    /// </summary>
    private List<Diagnostic> Scrub(IReadOnlyList<Diagnostic> diagnostics)
    {
        var secrets = _secrets.Values.Where(v => v.Length >= MinScrubLength).OrderByDescending(v => v.Length).ToList();
        if (secrets.Count == 0) return diagnostics.ToList();
        return diagnostics.Select(d =>
        {
            var message = d.Message;
            foreach (var s in secrets) message = message.Replace(s, Value.Redacted, StringComparison.Ordinal);
            return ReferenceEquals(message, d.Message) ? d : d with { Message = message };
        }).ToList();
    }
}
