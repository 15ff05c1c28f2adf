namespace Converge.Compiler.Compilation;

/// <summary>
/// The compiler's diagnostic codes (CVG2xxx), one per kind of error, so docs/errors/ can have a page
/// for each and tests can assert the kind without matching message text.
/// </summary>
public static class CompilerCodes
{
    /// <summary>The manifest path is missing, unreadable, or a directory without site.yaml.</summary>
    public const string PathProblem = "CVG2000";
    /// <summary>An unknown key in site.yaml, a manifest, a module, a node entry, a param or secret declaration.</summary>
    public const string UnknownKey = "CVG2001";
    /// <summary>A value has the wrong form (a list where a map is expected, a non-bool <c>sensitive</c> …).</summary>
    public const string WrongForm = "CVG2002";
    /// <summary>A node entry has neither <c>match</c> nor <c>when</c>.</summary>
    public const string NodeEntryWithoutSelector = "CVG2003";

    /// <summary>An included module was found in none of the module directories.</summary>
    public const string ModuleNotFound = "CVG2010";
    /// <summary>Modules include each other in a cycle.</summary>
    public const string IncludeCycle = "CVG2011";
    /// <summary>A module is included twice with different params.</summary>
    public const string ConflictingInclude = "CVG2012";

    /// <summary>A required module param was not given and has no default.</summary>
    public const string MissingParam = "CVG2020";
    /// <summary>An include passes a param the module does not declare.</summary>
    public const string UnknownParam = "CVG2021";
    /// <summary>A param value (or default) does not have the declared type.</summary>
    public const string ParamTypeMismatch = "CVG2022";
    /// <summary>A param declaration is malformed (unknown <c>type</c>).</summary>
    public const string BadParamDeclaration = "CVG2023";

    /// <summary>A resource's type is not known to any provider.</summary>
    public const string UnknownResourceType = "CVG2030";
    /// <summary>A resource entry is malformed (not a map, non-scalar or empty title).</summary>
    public const string BadResource = "CVG2031";
    /// <summary>Two resources have the same id.</summary>
    public const string DuplicateResource = "CVG2032";
    /// <summary>A <c>require</c>/<c>before</c>/<c>notify</c>/<c>subscribe</c> item is not of the form <c>type[title]</c>.</summary>
    public const string MalformedReference = "CVG2033";
    /// <summary><c>for_each</c> is not a list or a map.</summary>
    public const string BadForEach = "CVG2035";
    /// <summary>A resource title or reference was computed from a secret (ids are printed everywhere).</summary>
    public const string SecretInIdentity = "CVG2036";

    /// <summary>A <c>{{ }}</c> expression has a syntax error.</summary>
    public const string ExpressionSyntax = "CVG2040";
    /// <summary>A <c>{{ }}</c> expression failed: undefined variable or member, bad operation.</summary>
    public const string ExpressionError = "CVG2041";
    /// <summary>A <c>when</c> is neither a bool nor an expression.</summary>
    public const string BadWhen = "CVG2042";

    /// <summary>A <c>template</c> file does not exist.</summary>
    public const string TemplateNotFound = "CVG2050";
    /// <summary>A template file has a Scriban syntax error.</summary>
    public const string TemplateSyntax = "CVG2051";
    /// <summary>Rendering a template failed (undefined variable or member, bad operation).</summary>
    public const string TemplateRender = "CVG2052";
    /// <summary>A resource has both <c>content</c> and <c>template</c>.</summary>
    public const string ContentAndTemplate = "CVG2053";
    /// <summary>A <c>template</c> or <c>source</c> path escapes its directory (../, absolute path, symlink).</summary>
    public const string PathEscapes = "CVG2054";
    /// <summary>A <c>source</c> file does not exist.</summary>
    public const string SourceNotFound = "CVG2055";

    /// <summary>A declared secret could be read from none of its sources.</summary>
    public const string SecretMissing = "CVG2060";
    /// <summary>A secret declaration is malformed (neither <c>env</c> nor <c>file</c>).</summary>
    public const string BadSecretDeclaration = "CVG2061";
}
