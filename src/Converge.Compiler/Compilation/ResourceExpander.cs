using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Where a list of resources was declared: the module (null for site.yaml or a single manifest), its
/// directories, and the scope its strings are interpolated in.
/// </summary>
internal sealed record UnitContext(string? Module, string BaseDirectory, Scope Scope)
{
    public string TemplatesDirectory => Path.Combine(BaseDirectory, "templates");
    public string FilesDirectory => Path.Combine(BaseDirectory, "files");
}

/// <summary>
/// Turns a <c>resources:</c> list into catalog resources: decides <c>when</c>, expands <c>for_each</c>,
/// interpolates titles and properties, lifts the common keys out, renders templates, resolves sources,
/// and reports duplicate ids with both locations.
/// </summary>
internal sealed class ResourceExpander(
    IResourceTypes types,
    Interpolator interpolator,
    TemplateRenderer templates,
    DiagnosticBag diagnostics,
    Action<string> recordFile)
{
    private static readonly string[] CommonKeys = ["require", "before", "notify", "subscribe", "tags", "sensitive", "noop", "when", "for_each"];

    private readonly List<CatalogResource> _resources = new();
    // Every id seen, even of resources that had errors, so a duplicate is reported alongside them.
    private readonly Dictionary<ResourceId, (SourceSpan Span, string? Module)> _seen = new();

    /// <summary>The resources so far, in declaration order.</summary>
    public IReadOnlyList<CatalogResource> Resources => _resources;

    /// <summary>Expands every entry of <paramref name="list"/> (a <c>resources:</c> value) in <paramref name="unit"/>.</summary>
    public void Expand(SyntaxNode? list, UnitContext unit)
    {
        if (Keys.List(list, "'resources'", diagnostics) is not { } seq) return;
        foreach (var item in seq.Items) ExpandOne(item, unit);
    }

    private void ExpandOne(SyntaxNode node, UnitContext unit)
    {
        if (node is not MappingNode { Entries.Count: > 0 } map)
        {
            diagnostics.Error(CompilerCodes.BadResource, node.Span,
                $"a resource must be a map whose first key is its type, like '- file: /etc/motd'; got {node.KindName}");
            return;
        }
        var head = map.Entries[0];
        var type = head.Key.Value;
        if (!types.IsKnown(type))
        {
            diagnostics.Error(CompilerCodes.UnknownResourceType, head.Key.Span,
                $"unknown resource type '{type}'{Suggest.DidYouMean(type, types.TypeNames)}; the types are: {string.Join(", ", types.TypeNames.Order(StringComparer.Ordinal))}");
            return;
        }
        if (head.Value is not ScalarNode titleNode || titleNode.IsNull)
        {
            diagnostics.Error(CompilerCodes.BadResource, head.Value.Span,
                $"the title of a {type} resource must be a string, like '{type}: name'; got {head.Value.KindName}");
            return;
        }

        var where = $"{type}[{titleNode.Value}]";
        var sensitive = false;
        if (map.Entry("sensitive") is { } sens && Bool(sens, unit.Scope, where) is { } s) sensitive = s;

        if (map.Entry("for_each") is not { } forEach)
        {
            Instance(map, type, titleNode, unit, unit.Scope, sensitive);
            return;
        }
        foreach (var scope in Iterations(forEach, unit, where))
            Instance(map, type, titleNode, unit, scope, sensitive);
    }

    /// <summary>One scope per <c>for_each</c> item: <c>item</c> for a list; <c>key</c> and <c>item</c> for a map.</summary>
    private IEnumerable<Scope> Iterations(MappingEntry forEach, UnitContext unit, string where)
    {
        var value = interpolator.Node(forEach.Value, unit.Scope, where, sensitive: false);
        var tracker = interpolator.Tracker;
        switch (value)
        {
            case null:
                yield break;
            case ListValue list:
                for (var i = 0; i < list.Items.Count; i++)
                    yield return unit.Scope.WithItem(ScriptValues.ToScript(list.Items[i], tracker, "item"), null,
                        ScriptValues.IsTainted(list.Items[i]), tracker);
                break;
            case MapValue m:
                foreach (var (k, v) in m.Entries)
                    yield return unit.Scope.WithItem(ScriptValues.ToScript(v, tracker, "item"), k, ScriptValues.IsTainted(v), tracker);
                break;
            default:
                diagnostics.Error(CompilerCodes.BadForEach, forEach.Value.Span,
                    $"'for_each' must be a list or a map (or a '{{{{ }}}}' expression yielding one); got {value.KindName}", where);
                break;
        }
    }

    private void Instance(MappingNode map, string type, ScalarNode titleNode, UnitContext unit, Scope scope, bool sensitive)
    {
        var written = $"{type}[{titleNode.Value}]";
        if (map.Entry("when") is { } when)
        {
            var keep = When(when.Value, scope, written);
            if (keep is not true) return;
        }

        if (interpolator.Scalar(titleNode, scope, written, sensitive: false) is not { } titleValue) return;
        if (titleValue is not ScalarValue { Text.Length: > 0 } title)
        {
            diagnostics.Error(CompilerCodes.BadResource, titleNode.Span,
                $"the title of {written} must be a non-empty string; got {(titleValue is ScalarValue ? "an empty string" : titleValue.KindName)}");
            return;
        }
        if (title.Sensitive)
        {
            // Ids appear in plans, reports and logs unredacted, so they must not carry secrets.
            diagnostics.Error(CompilerCodes.SecretInIdentity, titleNode.Span,
                $"the title of {written} is computed from a secret; titles are printed everywhere, so use a fixed name");
            return;
        }
        var id = new ResourceId(type, title.Text);
        var resource = id.ToString();
        var span = map.Entries[0].Key.Span;
        if (_seen.TryGetValue(id, out var first) && first.Span == span)
        {
            diagnostics.Error(CompilerCodes.DuplicateResource, titleNode.Span,
                $"duplicate resource {resource}: 'for_each' produced this id more than once; make the title depend on {{{{ item }}}} (or {{{{ key }}}})", resource);
            return;
        }
        if (_seen.TryGetValue(id, out first))
        {
            diagnostics.Error(CompilerCodes.DuplicateResource, span,
                $"duplicate resource {resource}: already declared at {first.Span}{(first.Module is { } m ? $" (module '{m}')" : "")}; "
                + "each resource id must be unique in the catalog, so give it a different title or remove one", resource);
            return;
        }
        _seen[id] = (span, unit.Module);
        var ok = true;

        IReadOnlyList<ResourceRef> Refs(string key)
        {
            if (map.Entry(key) is not { } entry) return []; // most resources have none: no list at all
            var list = new List<ResourceRef>();
            if (!References(entry, scope, resource, list)) ok = false;
            return list;
        }
        var require = Refs("require");
        var before = Refs("before");
        var notify = Refs("notify");
        var subscribe = Refs("subscribe");

        var tags = new List<string>();
        if (map.Entry("tags") is { } tagsEntry && !Tags(tagsEntry, scope, resource, tags)) ok = false;
        if (unit.Module is { } module && !tags.Contains(module)) tags.Add(module);

        var noop = false;
        if (map.Entry("noop") is { } noopEntry)
        {
            if (Bool(noopEntry, scope, resource) is { } n) noop = n;
            else ok = false;
        }

        var properties = new Dictionary<string, Value>(StringComparer.Ordinal);
        var keySpans = new Dictionary<string, SourceSpan>(StringComparer.Ordinal);
        var hasContent = map.Entry("content") is not null;
        for (var i = 1; i < map.Entries.Count; i++)
        {
            var (key, valueNode) = (map.Entries[i].Key, map.Entries[i].Value);
            if (CommonKeys.Contains(key.Value)) continue;
            var value = interpolator.Node(valueNode, scope, resource, sensitive);
            if (value is null) { ok = false; continue; }

            if (key.Value == "template")
            {
                if (hasContent)
                {
                    diagnostics.Error(CompilerCodes.ContentAndTemplate, key.Span,
                        "a resource takes 'content' or 'template', not both; remove one of them", resource);
                    ok = false;
                    continue;
                }
                if (!Name(value, valueNode, "template", resource, out var name)) { ok = false; continue; }
                var content = templates.Render(name, valueNode.Span, key.Span, unit.TemplatesDirectory, scope, resource, sensitive);
                if (content is null) { ok = false; continue; }
                properties["content"] = content;
                keySpans["content"] = key.Span;
                continue;
            }
            if (key.Value == "source")
            {
                if (!Name(value, valueNode, "source", resource, out var name) || Source(name, valueNode, unit, resource, sensitive) is not { } src)
                {
                    ok = false;
                    continue;
                }
                value = src;
            }
            properties[key.Value] = value;
            keySpans[key.Value] = key.Span;
        }
        if (!ok) return;

        var result = new CatalogResource
        {
            Id = id,
            Span = span,
            TitleSpan = titleNode.Span,
            Properties = properties,
            PropertyKeySpans = keySpans,
            Require = require,
            Before = before,
            Notify = notify,
            Subscribe = subscribe,
            Tags = tags,
            Sensitive = sensitive,
            Noop = noop,
            Module = unit.Module,
            BaseDirectory = unit.BaseDirectory,
        };
        _resources.Add(result);
    }

    /// <summary>Evaluates a <c>when</c>: a bool, a bare Scriban expression, or a <c>{{ }}</c> string. Null on error.</summary>
    public bool? When(SyntaxNode node, Scope scope, string? resource)
    {
        if (node is not ScalarNode s || s.IsNull)
        {
            diagnostics.Error(CompilerCodes.BadWhen, node.Span,
                $"'when' must be true/false or an expression such as 'facts.os.family == \"debian\"'; got {node.KindName}", resource);
            return null;
        }
        if (!s.Quoted && ScriptValues.TryBool(s.Value, out var literal)) return literal;
        if (s.Value.Contains("{{", StringComparison.Ordinal))
        {
            if (Interpolator.WholeExpression(s.Value) is var (start, length))
                return interpolator.Evaluate(s.Value.Substring(start, length), s, start, scope, resource, out var r, out _)
                    ? Interpolator.IsTruthy(r) : null;
            return interpolator.Scalar(s, scope, resource, false) is ScalarValue v ? Interpolator.IsTruthy(v.Text) : null;
        }
        return interpolator.Evaluate(s.Value, s, 0, scope, resource, out var result, out _) ? Interpolator.IsTruthy(result) : null;
    }

    private bool? Bool(MappingEntry entry, Scope scope, string resource)
    {
        if (entry.Value is ScalarNode s)
        {
            var value = interpolator.Scalar(s, scope, resource, false);
            if (value is null) return null; // the interpolation error is already reported
            if (value is ScalarValue v && ScriptValues.TryBool(v.Text, out var b)) return b;
        }
        diagnostics.Error(CompilerCodes.WrongForm, entry.Value.Span,
            $"'{entry.Key.Value}' must be true or false; got {Describe(entry.Value)}", resource);
        return null;
    }

    private bool References(MappingEntry entry, Scope scope, string resource, List<ResourceRef> into)
    {
        var key = entry.Key.Value;
        var items = entry.Value switch
        {
            ScalarNode s => [s],
            SequenceNode seq => seq.Items,
            _ => null,
        };
        if (items is null)
        {
            diagnostics.Error(CompilerCodes.WrongForm, entry.Value.Span,
                $"'{key}' must be a reference like 'package[nginx]' or a list of them; got {entry.Value.KindName}", resource);
            return false;
        }
        var ok = true;
        foreach (var item in items)
        {
            if (item is not ScalarNode s)
            {
                diagnostics.Error(CompilerCodes.MalformedReference, item.Span,
                    $"each '{key}' item must be a reference like 'package[nginx]'; got {item.KindName}", resource);
                ok = false;
                continue;
            }
            var value = interpolator.Scalar(s, scope, resource, false);
            if (value is null) { ok = false; continue; }
            var texts = value switch
            {
                ScalarValue sv => [sv],
                ListValue lv => lv.Items,
                _ => [value],
            };
            foreach (var t in texts)
            {
                if (t.Sensitive)
                {
                    diagnostics.Error(CompilerCodes.SecretInIdentity, s.Span,
                        $"'{key}' reference is computed from a secret; references are printed everywhere, so name the resource directly", resource);
                    ok = false;
                }
                else if (t is ScalarValue text && ResourceId.TryParse(text.Text, out var target))
                {
                    into.Add(new ResourceRef(target, s.Span));
                }
                else
                {
                    // Quote what was written, not what it rendered to: a rendered value may carry data
                    // that does not belong in an error message.
                    var shown = s.Value.Contains("{{", StringComparison.Ordinal) ? $"'{s.Value}' does not render to one" : $"got '{s.Value}'";
                    diagnostics.Error(CompilerCodes.MalformedReference, s.Span,
                        $"'{key}' must be a reference like 'package[nginx]' (type[title]); {shown}", resource);
                    ok = false;
                }
            }
        }
        return ok;
    }

    private bool Tags(MappingEntry entry, Scope scope, string resource, List<string> into)
    {
        var value = interpolator.Node(entry.Value, scope, resource, false);
        if (value is null) return false;
        var items = value switch
        {
            ScalarValue s => [s],
            ListValue l => l.Items,
            _ => null,
        };
        if (items is null || items.Any(i => i is not ScalarValue { Text.Length: > 0 }))
        {
            diagnostics.Error(CompilerCodes.WrongForm, entry.Value.Span,
                $"'tags' must be a tag name or a list of them; got {(items is null ? value.KindName : "a list with an item that is not a name")}", resource);
            return false;
        }
        foreach (var i in items)
            if (!into.Contains(((ScalarValue)i).Text)) into.Add(((ScalarValue)i).Text);
        return true;
    }

    private bool Name(Value value, SyntaxNode written, string key, string resource, out string name)
    {
        name = "";
        if (value is ScalarValue { Text.Length: > 0 } s)
        {
            name = s.Text;
            return true;
        }
        diagnostics.Error(CompilerCodes.WrongForm, written.Span,
            $"'{key}' must be a file name under {(key == "template" ? "templates/" : "files/")}, like 'motd'; got {(value is ScalarValue ? "an empty string" : value.KindName)}", resource);
        return false;
    }

    private ScalarValue? Source(string name, SyntaxNode written, UnitContext unit, string resource, bool sensitive)
    {
        switch (PathGuard.Confine(unit.FilesDirectory, name, out var path))
        {
            case PathGuard.Outcome.Escapes:
                diagnostics.Error(CompilerCodes.PathEscapes, written.Span,
                    $"source '{name}' is outside the files directory {unit.FilesDirectory}; name a file inside it", resource);
                return null;
            case PathGuard.Outcome.Missing:
                diagnostics.Error(CompilerCodes.SourceNotFound, written.Span,
                    $"source '{name}' not found; expected {path}", resource);
                return null;
        }
        recordFile(path);
        return new ScalarValue(written.Span, path, Quoted: true, sensitive);
    }

    private static string Describe(SyntaxNode node)
        => node is ScalarNode { IsNull: false, Quoted: false } s && !s.Value.Contains("{{", StringComparison.Ordinal) ? $"'{s.Value}'" : node.KindName;
}
