using System.Text.Json;
using System.Text.Json.Nodes;
using Converge.Engine;

namespace Converge.Agent;

/// <summary>Why the agent is disabled, by whom, since when (<c>converge agent disable --reason</c>).</summary>
public sealed record DisabledMark(string Reason, string By, DateTimeOffset Since);

/// <summary>
/// What the agent remembers between cycles and restarts, in <c>STATE/agent/state.json</c>: the last
/// revision that loaded and compiled (the fallback) and the last one converged (the "was" of the next
/// deploy line). Also the disable mark, <c>STATE/agent/disabled.json</c>, which the CLI writes and the
/// agent reads at the start of every cycle. Written atomically.
/// </summary>
public sealed class AgentState(string stateDir)
{
    public string Directory => Path.Combine(stateDir, "agent");
    public string StatePath => Path.Combine(Directory, "state.json");
    public string DisabledPath => Path.Combine(Directory, "disabled.json");

    /// <summary>The agent's own lock: one agent per state directory.</summary>
    public string AgentLockPath => Path.Combine(Directory, "agent.lock");

    public string? LastGood { get; private set; }
    public string? LastConverged { get; private set; }

    public static AgentState Load(string stateDir)
    {
        var state = new AgentState(stateDir);
        try
        {
            if (JsonNode.Parse(File.ReadAllText(state.StatePath)) is JsonObject o)
            {
                state.LastGood = (string?)o["lastGood"];
                state.LastConverged = (string?)o["lastConverged"];
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            // No state yet (first start), or a file we cannot read as ours: start afresh.
        }
        return state;
    }

    public void Record(string? lastGood, string? lastConverged)
    {
        LastGood = lastGood;
        LastConverged = lastConverged;
        var o = new JsonObject { ["formatVersion"] = 1, ["lastGood"] = lastGood, ["lastConverged"] = lastConverged };
        StateFiles.WriteAtomic(StatePath, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public DisabledMark? Disabled()
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(DisabledPath)) is not JsonObject o) return new DisabledMark("(unreadable mark)", "unknown", DateTimeOffset.MinValue);
            return new DisabledMark((string?)o["reason"] ?? "", (string?)o["by"] ?? "unknown",
                DateTimeOffset.TryParse((string?)o["since"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var t) ? t : DateTimeOffset.MinValue);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            // A mark we cannot parse still means someone wanted the agent off: stay disabled, say so.
            return new DisabledMark("(unreadable disable mark)", "unknown", DateTimeOffset.MinValue);
        }
    }

    public void Disable(DisabledMark mark)
    {
        var o = new JsonObject { ["reason"] = mark.Reason, ["by"] = mark.By, ["since"] = mark.Since.ToString("O") };
        StateFiles.WriteAtomic(DisabledPath, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    /// <summary>Removes the disable mark; returns false when the agent was not disabled.</summary>
    public bool Enable()
    {
        if (!File.Exists(DisabledPath)) return false;
        File.Delete(DisabledPath);
        return true;
    }
}
