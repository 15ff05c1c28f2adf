using Converge.Compiler.Catalog;
using Converge.Manifests.Diagnostics;
using Scriban;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Renders <c>template: name.sbn</c> files from a module's (or the manifest's) <c>templates/</c> directory
/// with the resource's scope. Each file is read and parsed once per compile; syntax errors are reported
/// once, at the template file's line:col.
/// </summary>
internal sealed class TemplateRenderer(Interpolator interpolator, DiagnosticBag diagnostics, Action<string> recordFile)
{
    private readonly Dictionary<string, Template?> _parsed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConfinedTemplateLoader> _loaders = new(StringComparer.Ordinal);

    /// <summary>
    /// The rendered content of <paramref name="name"/> (as written at <paramref name="nameSpan"/>) under
    /// <paramref name="directory"/>, as a quoted scalar at <paramref name="keySpan"/>; sensitive when the
    /// render read a secret or <paramref name="sensitive"/> is set. Null after reporting an error.
    /// </summary>
    public ScalarValue? Render(string name, SourceSpan nameSpan, SourceSpan keySpan, string directory, Scope scope,
        string resource, bool sensitive)
    {
        switch (PathGuard.Confine(directory, name, out var path))
        {
            case PathGuard.Outcome.Escapes:
                diagnostics.Error(CompilerCodes.PathEscapes, nameSpan,
                    $"template '{name}' is outside the templates directory {directory}; name a file inside it, like 'motd.sbn'", resource);
                return null;
            case PathGuard.Outcome.Missing:
                diagnostics.Error(CompilerCodes.TemplateNotFound, nameSpan,
                    $"template '{name}' not found; expected the file {path}{Suggest.DidYouMean(name, Available(directory))}", resource);
                return null;
        }
        if (Directory.Exists(path))
        {
            diagnostics.Error(CompilerCodes.TemplateNotFound, nameSpan, $"template '{name}' is a directory; name a file", resource);
            return null;
        }

        if (!_parsed.TryGetValue(path, out var template))
        {
            template = Parse(path, resource);
            _parsed[path] = template;
        }
        if (template is null) return null;

        if (!_loaders.TryGetValue(directory, out var loader))
        {
            loader = new ConfinedTemplateLoader(directory, recordFile);
            _loaders[directory] = loader;
        }
        var text = interpolator.Render(template, scope, resource, loader, out var tainted);
        return text is null ? null : new ScalarValue(keySpan, text, Quoted: true, sensitive || tainted);
    }

    private Template? Parse(string path, string resource)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(CompilerCodes.TemplateNotFound, new SourceSpan(path, 1, 1, 1, 1), $"cannot read template: {e.Message}", resource);
            return null;
        }
        recordFile(path);
        var template = Template.Parse(text, path);
        if (!template.HasErrors) return template;
        foreach (var m in template.Messages.Where(m => m.Type == Scriban.Parsing.ParserMessageType.Error))
            diagnostics.Error(CompilerCodes.TemplateSyntax, Interpolator.TemplateSpan(path, m.Span),
                $"template syntax error: {m.Message}", resource);
        return null;
    }

    private static IEnumerable<string> Available(string directory)
    {
        try
        {
            return Directory.Exists(directory)
                ? Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).ToList()
                : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // only the did-you-mean suffers
        }
    }
}
