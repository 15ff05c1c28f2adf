namespace Converge.Providers.Exec;

/// <summary>What the guards of an <c>exec</c> said when read: whether the command should run, and why.</summary>
public sealed record ExecActual(bool ShouldRun, string Reason)
{
    /// <summary>No guards: the command runs whenever the resource is applied (or refreshed, for refreshonly).</summary>
    public static readonly ExecActual Unguarded = new(true, "no creates, onlyif or unless");
}
