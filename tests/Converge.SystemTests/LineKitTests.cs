using Xunit.Abstractions;

namespace Converge.SystemTests;

public sealed class LineKitHost : KitHost
{
    protected override string Hostname => "kit-line";
}

/// <summary>
/// The properties of <c>line</c> (match, after, before, multiple, create, absent) on real files of a host
/// through the convergence kit (<see cref="HostKit"/>); each case edits a file of its own under /etc/kit-line.
/// </summary>
public class LineKitTests(LineKitHost fixture, ITestOutputHelper output) : IClassFixture<LineKitHost>
{
    private static string File(string name, string content) => $"mkdir -p /etc/kit-line && printf '{content}' > /etc/kit-line/{name}";

    private static string Site(string name, string properties) =>
        $"resources:\n  - line: {name}\n    path: /etc/kit-line/{name}\n" + string.Concat(properties.Split('\n').Select(p => $"    {p}\n"));

    private static readonly KitCase[] All =
    [
        new("match")
        {
            Setup = File("match", "Port 22\\n#PermitRootLogin prohibit-password\\nUsePAM yes\\n"),
            Site = Site("match", "text: PermitRootLogin no\nmatch: \"^#?PermitRootLogin\""),
            Shows = ["text: #PermitRootLogin prohibit-password → PermitRootLogin no", "-#PermitRootLogin prohibit-password", "+PermitRootLogin no"],
            Probe = "cat /etc/kit-line/match",
            Expected = "Port 22\nPermitRootLogin no\nUsePAM yes\n",
            Drift = "sed -i 's/^PermitRootLogin no/PermitRootLogin yes/' /etc/kit-line/match",
            DriftShows = ["-PermitRootLogin yes", "+PermitRootLogin no"],
        },
        new("after")
        {
            // After the *last* line matching the anchor.
            Setup = File("after", "[main]\\na=1\\n[main]\\nb=2\\n[other]\\n"),
            Site = Site("after", "text: added=1\ninsert_after: \"^\\\\[main\\\\]\""),
            Shows = ["+added=1"],
            Probe = "cat /etc/kit-line/after",
            Expected = "[main]\na=1\n[main]\nadded=1\nb=2\n[other]\n",
            Drift = "sed -i '/^added=1$/d' /etc/kit-line/after",
            DriftShows = ["+added=1"],
        },
        new("before")
        {
            // Before the *first* line matching the anchor.
            Setup = File("before", "# head\\ninclude a\\ninclude b\\n"),
            Site = Site("before", "text: setting=on\ninsert_before: \"^include \""),
            Shows = ["+setting=on"],
            Probe = "cat /etc/kit-line/before",
            Expected = "# head\nsetting=on\ninclude a\ninclude b\n",
            Drift = "sed -i '/^setting=on$/d' /etc/kit-line/before",
            DriftShows = ["+setting=on"],
        },
        new("anchor-missing-appends")
        {
            Setup = File("anchor", "# leading comment\\nx=1"),
            Site = Site("anchor", "text: y=2\ninsert_before: \"^nowhere\""),
            Shows = ["+y=2"],
            // No newline at the end stays so: the new line goes last, still without one.
            Probe = "cat /etc/kit-line/anchor; echo '|'",
            Expected = "# leading comment\nx=1\ny=2|\n",
            Drift = "printf '# leading comment\\nx=1' > /etc/kit-line/anchor",
            DriftShows = ["+y=2"],
        },
        new("multiple")
        {
            Setup = File("multiple", "opt=1\\nkeep\\nopt=2\\nopt=9\\n"),
            Site = Site("multiple", "text: opt=9\nmatch: \"^opt=\"\nmultiple: true"),
            Shows = ["-opt=1", "-opt=2", "+opt=9"],
            Probe = "cat /etc/kit-line/multiple",
            Expected = "opt=9\nkeep\nopt=9\nopt=9\n",
            Drift = "sed -i '3s/opt=9/opt=3/' /etc/kit-line/multiple",
            DriftShows = ["-opt=3"],
        },
        new("create")
        {
            Setup = "mkdir -p /etc/kit-line && rm -f /etc/kit-line/create",
            Site = Site("create", "text: created=yes\ncreate: true"),
            Shows = ["+created=yes"],
            Probe = "cat /etc/kit-line/create 2>&1; stat -c '%a %U' /etc/kit-line/create 2>&1 | tail -c 9",
            Expected = "created=yes\n644 root\n",
            Drift = "rm /etc/kit-line/create",
            DriftShows = ["+created=yes"],
        },
        new("absent-by-match")
        {
            Setup = File("absent", "a\\nX11Forwarding yes\\nb\\nX11Forwarding no\\n"),
            Site = Site("absent", "ensure: absent\nmatch: \"^X11Forwarding\""),
            Shows = ["-X11Forwarding yes", "-X11Forwarding no"],
            Probe = "cat /etc/kit-line/absent",
            Expected = "a\nb\n",
            Drift = "echo 'X11Forwarding maybe' >> /etc/kit-line/absent",
            DriftShows = ["-X11Forwarding maybe"],
        },
        new("backup-on")
        {
            // The default: the old content goes to the state directory's bucket, under its sha256.
            Setup = File("backup", "k=1\\n"),
            Site = Site("backup", "text: k=2\nmatch: \"^k=\""),
            Shows = ["text: k=1 → k=2"],
            Probe = "cat /etc/kit-line/backup; grep -rlx k=1 /var/lib/converge-kit/backup-on/bucket 2>/dev/null | wc -l",
            Expected = "k=2\n1\n",
            Drift = "echo k=3 > /etc/kit-line/backup",
            DriftShows = ["text: k=3 → k=2"],
        },
        new("backup-off")
        {
            // backup: false stores nothing in the state directory's bucket, on apply nor on repair.
            Setup = File("nobackup", "k=1\\n"),
            Site = Site("nobackup", "text: k=2\nmatch: \"^k=\"\nbackup: false"),
            Shows = ["text: k=1 → k=2"],
            Probe = "cat /etc/kit-line/nobackup; find /var/lib/converge-kit/backup-off -path '*bucket*' -type f | wc -l",
            Expected = "k=2\n0\n",
            Drift = "echo k=3 > /etc/kit-line/nobackup",
            DriftShows = ["text: k=3 → k=2"],
        },
        new("crlf-and-mode-kept")
        {
            Setup = File("crlf", "a=1\\r\\nb=2\\r\\n") + " && chmod 0640 /etc/kit-line/crlf && chown daemon /etc/kit-line/crlf",
            Site = Site("crlf", "text: b=3\nmatch: \"^b=\""),
            Shows = ["text: b=2 → b=3"],
            Probe = "od -An -c /etc/kit-line/crlf | tr -s ' '; stat -c '%a %U' /etc/kit-line/crlf",
            Expected = " a = 1 \\r \\n b = 3 \\r \\n\n640 daemon\n",
            Drift = "printf 'a=1\\r\\nb=4\\r\\n' > /etc/kit-line/crlf",
            DriftShows = ["text: b=4 → b=3"],
        },
    ];

    public static TheoryData<string> Cases => new(All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task LineProperty_ConvergenceKit(string name) => HostKit.RunAsync(fixture.Host, All.Single(c => c.Name == name), output);
}
