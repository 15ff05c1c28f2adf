using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Converge.Compiler.Catalog;
using Converge.Machine;
using Converge.Providers.Contract;

namespace Converge.Engine.Plans;

/// <summary>
/// Keyed digests of what a plan was computed from: each resource's actual state (whatever record its
/// provider's Read returned), its desired state (the catalog resource) and its changes. Every digest is
/// an HMAC-SHA256 under the host's <see cref="PlanKey"/>, so a digest that covers a low-entropy secret
/// (a password in a file, a shadow hash) cannot be tested against guesses by whoever reads the plan.
/// </summary>
/// <remarks>
/// The canonical form is provider-neutral: the public properties of the actual record, in name order,
/// recursively (computed, get-only ones left out). What would make it differ between two reads of an unchanged host is left out: byte
/// contents are represented by their sha256 (never their bytes), time values (<see cref="TimeSpan"/>,
/// <see cref="DateTime"/>, <see cref="DateTimeOffset"/>: the age of apt's lists) are skipped, and a
/// directory's size (it grows with its entries and no resource manages it) is not part of its status.
/// Nothing a provider reads holds a pid or an access time.
/// </remarks>
public sealed class StateDigest(PlanKey key)
{
    public const string Algorithm = "hmac-sha256";

    /// <summary>The public name of the key the digests are made with.</summary>
    public string KeyId => key.Id;

    /// <summary>The digest of a canonical text, as <c>hmac-sha256:HEX</c>.</summary>
    public string Of(string canonical) => Algorithm + ":" + Hex(canonical);

    /// <summary>A short keyed digest (16 hex digits) of one field, to name what changed without showing it.</summary>
    public string Short(string canonical) => Hex(canonical)[..16];

    private string Hex(string canonical)
        => Convert.ToHexString(HMACSHA256.HashData(key.Bytes, Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant();

    /// <summary>The actual state: its digest and the short digest of each leaf field, by path (<c>status.mode</c>).</summary>
    public (string Digest, IReadOnlyDictionary<string, string> Fields) Actual(object actual)
    {
        var leaves = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Flatten(actual, "", leaves, 0);
        var canonical = new StringBuilder();
        canonical.Append(actual.GetType().FullName).Append('\n');
        foreach (var (path, value) in leaves) canonical.Append(path).Append('=').Append(value).Append('\n');
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, value) in leaves) fields[path] = Short(path + "=" + value);
        return (Of(canonical.ToString()), fields);
    }

    /// <summary>
    /// The changes a provider computed, in clear (argv with its sensitive elements, diffs, values). The
    /// <c>from</c> side is left out: it only shows the actual state, which <see cref="Actual"/> covers,
    /// and some providers word it with the time (<c>lists 3 h old</c>).
    /// </summary>
    public string Changes(IReadOnlyList<Change> changes)
    {
        var sb = new StringBuilder();
        foreach (var c in changes)
        {
            sb.Append("property=").Append(Escape(c.Property)).Append('\n');
            sb.Append("to=").Append(c.To is null ? "\0" : Escape(c.To)).Append('\n');
            sb.Append("argv=").Append(c.Argv is null ? "\0" : string.Join('\u001f', c.Argv.Select(Escape))).Append('\n');
            sb.Append("diff=").Append(c.UnifiedDiff is null ? "\0" : Escape(c.UnifiedDiff)).Append('\n');
        }
        return Of(sb.ToString());
    }

    /// <summary>
    /// The desired state of one resource: its type, title and every property value in clear (secrets
    /// included: the key keeps them from being guessed), its references, tags and flags. Where it was
    /// written (file:line:col, the checkout directory) is left out: moving a resource within a file does
    /// not change what it wants.
    /// </summary>
    public string Desired(CatalogResource r) => Of(DesiredCanonical(r));

    /// <summary>The whole catalog: the node and each resource's desired digest, in id order.</summary>
    public string Catalog(string node, IEnumerable<CatalogResource> resources)
    {
        var sb = new StringBuilder("node=").Append(Escape(node)).Append('\n');
        foreach (var r in resources.OrderBy(r => r.Id))
            sb.Append(r.Id.ToString()).Append('=').Append(DesiredCanonical(r)).Append('\n');
        return Of(sb.ToString());
    }

    private static string DesiredCanonical(CatalogResource r)
    {
        var sb = new StringBuilder();
        sb.Append(Escape(r.Id.ToString()));
        sb.Append("{sensitive=").Append(r.Sensitive).Append(",noop=").Append(r.Noop).Append(",props={");
        foreach (var (key, value) in r.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.Append(Escape(key)).Append(':');
            AppendValue(sb, value);
            sb.Append(',');
        }
        sb.Append('}');
        foreach (var (name, refs) in new[] { ("require", r.Require), ("before", r.Before), ("notify", r.Notify), ("subscribe", r.Subscribe) })
            sb.Append(',').Append(name).Append("=[").AppendJoin(',', refs.Select(x => Escape(x.Target.ToString())).Order(StringComparer.Ordinal)).Append(']');
        sb.Append(",tags=[").AppendJoin(',', r.Tags.Select(Escape).Order(StringComparer.Ordinal)).Append("]}");
        return sb.ToString();
    }

    private static void AppendValue(StringBuilder sb, Value value)
    {
        switch (value)
        {
            case ScalarValue s:
                // Quoted matters: "0644" and 0644 may parse differently for a provider.
                sb.Append(s.Quoted ? 'q' : 'p').Append('"').Append(Escape(s.Text)).Append('"');
                break;
            case ListValue l:
                sb.Append('[');
                foreach (var i in l.Items) { AppendValue(sb, i); sb.Append(','); }
                sb.Append(']');
                break;
            case MapValue m:
                sb.Append('{');
                foreach (var (k, v) in m.Entries) { sb.Append(Escape(k)).Append(':'); AppendValue(sb, v); sb.Append(','); }
                sb.Append('}');
                break;
        }
    }

    // Field separators never collide with text: each special character is escaped.
    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\"", "\\\"")
        .Replace(",", "\\,").Replace("=", "\\=").Replace("\u001f", "\\u001f");

    private static void Flatten(object? value, string path, IDictionary<string, string> leaves, int depth)
    {
        if (depth > 8) throw new InvalidOperationException($"actual state nested too deep at '{path}'");
        switch (value)
        {
            case null:
                leaves[path] = "null";
                return;
            case TimeSpan or DateTime or DateTimeOffset:
                return; // time-varying by nature (see remarks); whatever it decides shows in the changes
            case string { Length: > 256 } text:
                // Long text (a crontab, authorized_keys) by its hash, like file bytes: the canonical form stays small.
                leaves[path] = "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
                return;
            case string s:
                leaves[path] = "\"" + Escape(s) + "\"";
                return;
            case byte[] bytes:
                leaves[path] = "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
                return;
            case bool b:
                leaves[path] = b ? "true" : "false";
                return;
            case Enum e:
                leaves[path] = e.ToString();
                return;
            case UnixMode mode:
                leaves[path] = mode.ToOctal();
                return;
            case IFormattable f when value.GetType().IsPrimitive || value is decimal:
                leaves[path] = f.ToString(null, CultureInfo.InvariantCulture);
                return;
            case FileStatus status:
                Flatten(status.Kind, Join(path, "kind"), leaves, depth + 1);
                Flatten(status.Mode, Join(path, "mode"), leaves, depth + 1);
                Flatten(status.Uid, Join(path, "uid"), leaves, depth + 1);
                Flatten(status.Gid, Join(path, "gid"), leaves, depth + 1);
                // A directory's size is its entries' bookkeeping; a file's or link's is part of what it is.
                if (status.Kind != FileKind.Directory) Flatten(status.Size, Join(path, "size"), leaves, depth + 1);
                Flatten(status.LinkTarget, Join(path, "linkTarget"), leaves, depth + 1);
                return;
            case IDictionary dict:
            {
                leaves[path] = "{" + dict.Count + "}";
                foreach (DictionaryEntry entry in dict)
                    Flatten(entry.Value, Join(path, Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!), leaves, depth + 1);
                return;
            }
            case IEnumerable list:
            {
                var i = 0;
                foreach (var item in list) Flatten(item, $"{path}[{i++}]", leaves, depth + 1);
                leaves[path] = "[" + i + "]";
                return;
            }
        }

        var type = value.GetType();
        if (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal))
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
                Flatten(field.GetValue(value), Join(path, field.Name), leaves, depth + 1);
            return;
        }
        var any = false;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            // Get-only properties are computed from the others (Kind => Status?.Kind): state once, not twice.
            if (property.GetIndexParameters().Length > 0 || !property.CanRead || property.SetMethod is null) continue;
            any = true;
            Flatten(property.GetValue(value), Join(path, LowerFirst(property.Name)), leaves, depth + 1);
        }
        if (!any) leaves[path] = "\"" + Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "") + "\"";
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static string LowerFirst(string s) => s.Length == 0 ? s : char.ToLowerInvariant(s[0]) + s[1..];
}
