using System.Collections;
using Scriban;
using Scriban.Runtime;
using ScribanSpan = Scriban.Parsing.SourceSpan;

namespace Converge.Compiler.Compilation;

/// <summary>
/// Records, for one Scriban evaluation at a time, whether it read anything derived from a secret, and
/// which member lookup last failed (to say "did you mean" in the error). Reset before every render.
/// </summary>
internal sealed class TaintTracker
{
    /// <summary>True once the current evaluation read a tainted member.</summary>
    public bool Touched { get; set; }

    /// <summary>The last failed lookup: the object's path ("facts.os"), the member, and what exists.</summary>
    public (string Path, string Member, IEnumerable<string> Candidates)? LastMiss { get; set; }

    public void Reset()
    {
        Touched = false;
        LastMiss = null;
    }
}

/// <summary>
/// A read-only Scriban object whose members may be marked tainted: reading such a member marks the
/// current evaluation as having used a secret. This is how secret taint is tracked — by watching
/// accesses during the render, never by searching the output for secret text.
/// </summary>
internal sealed class TrackedObject : IScriptObject, IEnumerable<KeyValuePair<string, object?>>
{
    private readonly OrderedDictionary<string, object?> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tainted = new(StringComparer.Ordinal);
    private readonly TaintTracker _tracker;

    public TrackedObject(TaintTracker tracker, string path)
    {
        _tracker = tracker;
        Path = path;
    }

    /// <summary>The expression that reaches this object (<c>vars</c>, <c>facts.os</c>), for error messages.</summary>
    public string Path { get; }

    public void Set(string name, object? value, bool tainted)
    {
        _members[name] = value;
        if (tainted) _tainted.Add(name);
        else _tainted.Remove(name);
    }

    public bool IsTainted(string name) => _tainted.Contains(name);

    public object? Get(string name) => _members.TryGetValue(name, out var v) ? v : null;

    public int Count => _members.Count;

    public bool IsReadOnly { get => true; set { } }

    public IEnumerable<string> GetMembers() => _members.Keys;

    public bool Contains(string member) => _members.ContainsKey(member);

    public bool TryGetValue(TemplateContext? context, ScribanSpan span, string member, out object? value)
    {
        if (_members.TryGetValue(member, out value))
        {
            if (_tainted.Contains(member)) _tracker.Touched = true;
            return true;
        }
        // The root scope misses every builtin function name (string, math …) on its way to the
        // builtins; only misses on real objects explain a "cannot get member" error.
        if (Path.Length > 0) _tracker.LastMiss = (Path, member, _members.Keys);
        return false;
    }

    public bool CanWrite(string member) => false;

    public bool TrySetValue(TemplateContext? context, ScribanSpan span, string member, object? value, bool readOnly) => false;

    public bool Remove(string member) => false;

    public void SetReadOnly(string member, bool readOnly) { }

    public IScriptObject Clone(bool deep) => this;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        // Enumerating (a `for` over a map) reads every member, tainted ones included.
        if (_tainted.Count > 0) _tracker.Touched = true;
        return _members.GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
