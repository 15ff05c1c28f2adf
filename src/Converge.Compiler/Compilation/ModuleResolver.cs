using System.Text.RegularExpressions;
using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Compiler.Compilation;

/// <summary>One declared module param: <c>name: { type: int, default: 2, required: false, description: … }</c>.</summary>
internal sealed record ParamDeclaration(string Name, ParamType Type, SyntaxNode? Default, bool Required, SourceSpan Span);

/// <summary>A loaded <c>module.yaml</c>: where it lives and what it declares.</summary>
internal sealed record ModuleDefinition(string Name, string Directory, string File, MappingNode Root,
    IReadOnlyList<ParamDeclaration> Params)
{
    public string TemplatesDirectory => Path.Combine(Directory, "templates");
    public string FilesDirectory => Path.Combine(Directory, "files");
}

/// <summary>
/// Finds modules by name in <c>&lt;repo&gt;/modules/&lt;name&gt;/module.yaml</c>, then in each directory of the
/// search path, and loads each once (validating its keys and param declarations).
/// </summary>
internal sealed partial class ModuleResolver(IReadOnlyList<string> directories, Func<string, SyntaxNode?> load, DiagnosticBag diagnostics)
{
    /// <summary>The keys a module.yaml may have.</summary>
    public static readonly string[] ModuleKeys = ["description", "params", "vars", "secrets", "include", "resources"];

    private static readonly string[] ParamKeys = ["type", "default", "required", "description"];
    private static readonly string[] TypeNames = ["string", "int", "bool", "list", "map"];

    private readonly Dictionary<string, ModuleDefinition?> _loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// The module called <paramref name="name"/>, or null after reporting why not (not found, bad name,
    /// unloadable). <paramref name="includeSite"/> is where the include was written.
    /// </summary>
    public ModuleDefinition? Resolve(string name, SourceSpan includeSite)
    {
        if (!ValidName().IsMatch(name))
        {
            diagnostics.Error(CompilerCodes.WrongForm, includeSite,
                $"'{name}' is not a module name; module names are letters, digits, '_', '-' and '.', like 'nginx'");
            return null;
        }
        if (_loaded.TryGetValue(name, out var known))
        {
            if (known is null) ReportNotFound(name, includeSite);
            return known;
        }

        ModuleDefinition? module = null;
        foreach (var dir in directories)
        {
            var file = Path.Combine(dir, name, "module.yaml");
            if (!File.Exists(file)) continue;
            module = Load(name, Path.GetDirectoryName(file)!, file);
            // A module that exists but fails to load was reported; do not also say "not found".
            _loaded[name] = module;
            return module;
        }
        _loaded[name] = null;
        ReportNotFound(name, includeSite);
        return null;
    }

    private void ReportNotFound(string name, SourceSpan includeSite)
    {
        var available = new List<string>();
        foreach (var dir in directories.Where(Directory.Exists))
        {
            try
            {
                available.AddRange(Directory.EnumerateDirectories(dir)
                    .Where(m => File.Exists(Path.Combine(m, "module.yaml"))).Select(m => Path.GetFileName(m)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Only the did-you-mean suffers from an unreadable module directory.
            }
        }
        var looked = string.Join(", ", directories.Select(d => Path.Combine(d, name, "module.yaml")));
        diagnostics.Error(CompilerCodes.ModuleNotFound, includeSite,
            $"module '{name}' not found{Suggest.DidYouMean(name, available)}; looked for {looked}");
    }

    private ModuleDefinition? Load(string name, string directory, string file)
    {
        var root = load(file);
        if (root is null) return null;
        if (root is not MappingNode map)
        {
            diagnostics.Error(CompilerCodes.WrongForm, root.Span, $"module.yaml of '{name}' must be a map with params, resources, include …; got {root.KindName}");
            return null;
        }
        Keys.Check(map, ModuleKeys, $"module '{name}'", diagnostics);
        return new ModuleDefinition(name, directory, file, map, ReadParams(map["params"], name));
    }

    private List<ParamDeclaration> ReadParams(SyntaxNode? node, string module)
    {
        var result = new List<ParamDeclaration>();
        if (Keys.Map(node, $"'params' of module '{module}'", diagnostics) is not { } map) return result;
        foreach (var entry in map.Entries)
        {
            var name = entry.Key.Value;
            if (entry.Value is ScalarNode { IsNull: true })
            {
                result.Add(new ParamDeclaration(name, ParamType.Any, null, true, entry.Key.Span));
                continue;
            }
            if (Keys.Map(entry.Value, $"param '{name}' of module '{module}'", diagnostics) is not { } decl) continue;
            Keys.Check(decl, ParamKeys, $"param '{name}' of module '{module}'", diagnostics);

            var type = ParamType.Any;
            if (decl["type"] is { } typeNode)
            {
                var typeName = (typeNode as ScalarNode)?.Value ?? "";
                type = typeName switch
                {
                    "string" => ParamType.String,
                    "int" => ParamType.Int,
                    "bool" => ParamType.Bool,
                    "list" => ParamType.List,
                    "map" => ParamType.Map,
                    _ => ParamType.Any,
                };
                if (!TypeNames.Contains(typeName))
                    diagnostics.Error(CompilerCodes.BadParamDeclaration, typeNode.Span,
                        $"param '{name}' of module '{module}' has unknown type '{typeName}'{Suggest.DidYouMean(typeName, TypeNames)}; the types are: {string.Join(", ", TypeNames)}");
            }

            var defaultNode = decl["default"];
            // Without a default a param is required unless it says otherwise, as in Puppet classes.
            var required = defaultNode is null;
            if (decl["required"] is { } req)
            {
                if (req is ScalarNode rs && ScriptValues.TryBool(rs.Value, out var r)) required = r;
                else diagnostics.Error(CompilerCodes.WrongForm, req.Span, $"'required' of param '{name}' must be true or false; got {req.KindName}");
            }
            result.Add(new ParamDeclaration(name, type, defaultNode, required, entry.Key.Span));
        }
        return result;
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    private static partial Regex ValidName();
}
