using Converge.Manifests.Diagnostics;
using Converge.Manifests.Syntax;

namespace Converge.Notify;

/// <summary>What converge.yaml says: the <c>notify:</c> and <c>retention:</c> blocks (docs/config.md).</summary>
public sealed record ConvergeConfig(NotifyConfig Notify, RetentionConfig Retention)
{
    /// <summary>No file, or an empty one: no notifications, the default retention.</summary>
    public static readonly ConvergeConfig Empty = new(NotifyConfig.Empty, RetentionConfig.Default);
}

/// <summary>
/// The command line's own config file for manual runs (<c>converge apply</c>, <c>converge --noop</c>):
/// <c>/etc/converge/converge.yaml</c> by default, <c>--config FILE</c> or <c>CONVERGE_CONFIG</c> to choose
/// another. It holds the <c>notify:</c> and <c>retention:</c> blocks (the same schemas as in agent.yaml). A
/// missing default file means no notifications and the default retention (an unreadable one too, with a
/// warning); a file named explicitly must be readable.
/// </summary>
public static class ConvergeConfigFile
{
    public const string DefaultPath = "/etc/converge/converge.yaml";

    /// <summary>The file cannot be read (or, named explicitly, does not exist).</summary>
    public const string Unreadable = "CVG5012";

    private static readonly string[] Keys = ["notify", "retention"];

    /// <summary>
    /// Loads the file. <paramref name="explicitPath"/> is <c>--config</c> or <c>CONVERGE_CONFIG</c> (null: the
    /// default path, where a missing file is no error). Returns null when any diagnostic is an error.
    /// </summary>
    public static ConvergeConfig? Load(string? explicitPath, DiagnosticBag diagnostics, string defaultPath = DefaultPath)
    {
        // No diagnostic of this file shows its source line: any line may hold a webhook token or a header.
        var bag = new DiagnosticBag();
        var config = LoadInto(explicitPath, bag, defaultPath);
        diagnostics.AddRange(bag.Sorted().Select(d => d with { HideExcerpt = true }));
        return config;
    }

    private static ConvergeConfig? LoadInto(string? explicitPath, DiagnosticBag diagnostics, string defaultPath)
    {
        var path = explicitPath ?? defaultPath;
        string text;
        try
        {
            if (explicitPath is null && !File.Exists(path)) return ConvergeConfig.Empty;
            text = File.ReadAllText(path);
        }
        catch (Exception e) when ((e is IOException or UnauthorizedAccessException) && explicitPath is null)
        {
            // The default file is root's (0600 when it holds tokens): an ordinary user's --noop still runs, without notifications.
            diagnostics.Warning(Unreadable, new SourceSpan(path, 0, 0, 0, 0), $"cannot read the converge config {path}: {e.Message}; running without notifications and with the default retention");
            return ConvergeConfig.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No position: the file itself could not be read.
            diagnostics.Error(Unreadable, new SourceSpan(path, 0, 0, 0, 0), $"cannot read the converge config {path}: {e.Message}");
            return null;
        }
        var before = diagnostics.Count;
        var root = YamlLoader.Load(path, text, diagnostics);
        if (root is null) return diagnostics.Count > before ? null : ConvergeConfig.Empty;
        if (root is ScalarNode { IsNull: true }) return ConvergeConfig.Empty;
        if (root is not MappingNode map)
        {
            diagnostics.Error(NotifyConfigReader.BadValue, root.Span, $"the converge config must be a map of settings (such as notify: and retention:); got {root.KindName}");
            return null;
        }
        var config = ConvergeConfig.Empty;
        var ok = true;
        foreach (var entry in map.Entries)
        {
            if (entry.Key.Value == "notify")
            {
                if (NotifyConfigReader.Read(entry.Value, diagnostics) is { } read) config = config with { Notify = read };
                else ok = false;
                continue;
            }
            if (entry.Key.Value == "retention")
            {
                if (RetentionConfigReader.Read(entry.Value, diagnostics) is { } read) config = config with { Retention = read };
                else ok = false;
                continue;
            }
            var hint = Suggest.Closest(entry.Key.Value, Keys) is { } near ? $"; did you mean '{near}'?" : $"; known keys: {string.Join(", ", Keys)}";
            diagnostics.Error(NotifyConfigReader.UnknownKey, entry.Key.Span, $"unknown converge setting '{entry.Key.Value}'{hint}");
            ok = false;
        }
        return ok ? config : null;
    }
}
