using System.Text.Json.Nodes;

namespace Converge.Machine.Facts;

/// <summary>
/// The facts of one run and the warnings met while gathering them (a broken external fact is a
/// warning for the caller to print, never a failed run).
/// </summary>
public sealed record GatheredFacts(JsonObject Facts, IReadOnlyList<string> Warnings);
