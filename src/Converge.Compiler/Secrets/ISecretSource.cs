namespace Converge.Compiler.Secrets;

/// <summary>
/// Where the compiler reads secret clear text from. The compiler asks in declaration order
/// (<c>env</c> first, then <c>file</c>) and takes the first answer that is not null.
/// </summary>
public interface ISecretSource
{
    /// <summary>The value of environment variable <paramref name="variable"/>, or null when unset or empty.</summary>
    string? ReadEnvironment(string variable);

    /// <summary>
    /// The content of the file at the absolute <paramref name="path"/> with one trailing newline removed,
    /// or null when it does not exist or cannot be read.
    /// </summary>
    string? ReadFile(string path);
}

/// <summary>The real secret source: the process environment and the file system. Never throws.</summary>
public sealed class EnvironmentAndFileSecretSource : ISecretSource
{
    /// <inheritdoc />
    public string? ReadEnvironment(string variable)
        => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v ? v : null;

    /// <inheritdoc />
    public string? ReadFile(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var text = File.ReadAllText(path);
            // Secret files are usually written by `echo`, whose newline is not part of the secret.
            if (text.EndsWith("\r\n", StringComparison.Ordinal)) return text[..^2];
            return text.EndsWith('\n') ? text[..^1] : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
