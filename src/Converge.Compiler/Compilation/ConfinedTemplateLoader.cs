using Scriban;
using Scriban.Runtime;
using Scriban.Syntax;
using ScribanSpan = Scriban.Parsing.SourceSpan;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Serves Scriban's <c>{{ include "partial.sbn" }}</c> from one templates directory, refusing names
/// that escape it the same way <c>template:</c> names are refused.
/// </summary>
internal sealed class ConfinedTemplateLoader(string directory, Action<string> recordFile) : ITemplateLoader
{
    /// <summary>The templates directory includes are resolved in.</summary>
    public string Directory { get; } = directory;

    public string GetPath(TemplateContext context, ScribanSpan callerSpan, string templateName)
    {
        return PathGuard.Confine(Directory, templateName, out var path) switch
        {
            PathGuard.Outcome.Inside => path,
            PathGuard.Outcome.Escapes => throw new ScriptRuntimeException(callerSpan,
                $"include '{templateName}' is outside the templates directory {Directory}; name a file inside it"),
            _ => throw new ScriptRuntimeException(callerSpan, $"include '{templateName}' not found; expected the file {path}"),
        };
    }

    public string? Load(TemplateContext context, ScribanSpan callerSpan, string templatePath)
    {
        try
        {
            var text = File.ReadAllText(templatePath);
            recordFile(templatePath);
            return text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScriptRuntimeException(callerSpan, $"cannot read include {templatePath}: {e.Message}");
        }
    }

    public ValueTask<string?> LoadAsync(TemplateContext context, ScribanSpan callerSpan, string templatePath)
        => new(Load(context, callerSpan, templatePath));
}
