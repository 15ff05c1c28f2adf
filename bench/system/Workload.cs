using System.Text;

namespace Converge.Bench.SystemWorkload;

/// <summary>
/// The system workload, described once and written out for every tool, so that each manifest asks for
/// the same accounts, crontabs and packages: groups with fixed gids; users with a fixed uid, a primary
/// group, two supplementary groups, a home, a shell and a comment; cron jobs spread over the crontabs
/// of the first ten users; packages that are already installed on the machine (and so in every host,
/// through the overlay of <c>/</c>).
/// </summary>
public sealed class Workload(int users, int groups, int jobs, IReadOnlyList<string> packages)
{
    /// <summary>Installed on every Debian 12 machine of this project's kind (base system, apt, curl, ca-certificates).</summary>
    public static readonly IReadOnlyList<string> DefaultPackages =
    [
        "apt", "base-files", "bash", "ca-certificates", "coreutils", "curl", "debianutils", "diffutils", "dpkg", "findutils",
        "grep", "gzip", "hostname", "less", "login", "mount", "passwd", "procps", "sed", "tar",
    ];

    // Jobs go to the crontabs of this many users (fewer when there are fewer users).
    private const int CrontabUsers = 10;

    public int Users => users;
    public int Groups => groups;
    public int Jobs => jobs;
    public IReadOnlyList<string> Packages => packages;

    public static string GroupName(int i) => $"bg{i:00}";
    public static int Gid(int i) => 3000 + i;
    public static string UserName(int i) => $"bu{i:00}";
    public static int Uid(int i) => 4000 + i;
    public static string Home(int i) => $"/home/{UserName(i)}";
    public static string Comment(int i) => $"Bench user {i:00}";
    public const string Shell = "/bin/bash";

    public int PrimaryGroup(int user) => (user - 1) % groups + 1;
    public int[] SupplementaryGroups(int user) => [user % groups + 1, (user + 1) % groups + 1];

    public static string JobName(int j) => $"job{j:00}";
    public string JobUser(int j) => UserName((j - 1) % Math.Min(CrontabUsers, users) + 1);
    public static string Minute(int j) => (j * 7 % 60).ToString();
    public static string Hour(int j) => (j % 24).ToString();
    public static string Command(int j) => $"/bin/true bench-job-{j:00}";

    public IEnumerable<int> UserIndexes => Enumerable.Range(1, users);
    public IEnumerable<int> GroupIndexes => Enumerable.Range(1, groups);
    public IEnumerable<int> JobIndexes => Enumerable.Range(1, jobs);
    public IEnumerable<string> CrontabOwners => JobIndexes.Select(JobUser).Distinct().Order(StringComparer.Ordinal);

    /// <summary>Checks the counts: supplementary groups must differ from the primary one, jobs need users.</summary>
    public void Validate()
    {
        if (groups < 3) throw new ArgumentException("--groups must be at least 3 (a user has a primary and two supplementary groups)");
        if (users < 1 || groups > 99 || users > 99 || jobs > 99) throw new ArgumentException("--users and --groups must be 1–99, --jobs 0–99");
        if (jobs < 0) throw new ArgumentException("--jobs must not be negative");
    }

    /// <summary>A converge site manifest: one resource per group, user, job and package.</summary>
    public string ConvergeManifest()
    {
        var s = new StringBuilder("resources:\n");
        foreach (var g in GroupIndexes)
            s.Append($"  - group: {GroupName(g)}\n    gid: {Gid(g)}\n");
        foreach (var u in UserIndexes)
        {
            s.Append($"  - user: {UserName(u)}\n    uid: {Uid(u)}\n    gid: {GroupName(PrimaryGroup(u))}\n");
            s.Append($"    groups: [{string.Join(", ", SupplementaryGroups(u).Select(GroupName))}]\n");
            s.Append($"    home: {Home(u)}\n    managehome: true\n    shell: {Shell}\n    comment: {Comment(u)}\n");
        }
        foreach (var j in JobIndexes)
            s.Append($"  - cron: {JobName(j)}\n    user: {JobUser(j)}\n    minute: \"{Minute(j)}\"\n    hour: \"{Hour(j)}\"\n    command: {Command(j)}\n");
        foreach (var p in packages)
            s.Append($"  - package: {p}\n");
        return s.ToString();
    }

    /// <summary>
    /// An ansible playbook written the way ansible is usually written: one task per module with a
    /// <c>loop</c>, and one <c>apt</c> task with the package list (apt checks the list in one call).
    /// </summary>
    public string AnsiblePlaybook()
    {
        var s = new StringBuilder();
        s.Append("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n");
        s.Append("    - name: groups\n      ansible.builtin.group:\n        name: \"{{ item.name }}\"\n        gid: \"{{ item.gid }}\"\n      loop:\n");
        foreach (var g in GroupIndexes)
            s.Append($"        - {{ name: {GroupName(g)}, gid: {Gid(g)} }}\n");
        s.Append("    - name: users\n      ansible.builtin.user:\n        name: \"{{ item.name }}\"\n        uid: \"{{ item.uid }}\"\n");
        s.Append("        group: \"{{ item.group }}\"\n        groups: \"{{ item.groups }}\"\n        append: true\n");
        s.Append("        home: \"{{ item.home }}\"\n        create_home: true\n        shell: " + Shell + "\n        comment: \"{{ item.comment }}\"\n      loop:\n");
        foreach (var u in UserIndexes)
            s.Append($"        - {{ name: {UserName(u)}, uid: {Uid(u)}, group: {GroupName(PrimaryGroup(u))}, " +
                     $"groups: [{string.Join(", ", SupplementaryGroups(u).Select(GroupName))}], home: {Home(u)}, comment: \"{Comment(u)}\" }}\n");
        if (jobs > 0)
        {
            s.Append("    - name: cron jobs\n      ansible.builtin.cron:\n        name: \"{{ item.name }}\"\n        user: \"{{ item.user }}\"\n");
            s.Append("        minute: \"{{ item.minute }}\"\n        hour: \"{{ item.hour }}\"\n        job: \"{{ item.job }}\"\n      loop:\n");
            foreach (var j in JobIndexes)
                s.Append($"        - {{ name: {JobName(j)}, user: {JobUser(j)}, minute: \"{Minute(j)}\", hour: \"{Hour(j)}\", job: \"{Command(j)}\" }}\n");
        }
        if (packages.Count > 0)
        {
            s.Append("    - name: packages\n      ansible.builtin.apt:\n        state: present\n        name:\n");
            foreach (var p in packages) s.Append($"          - {p}\n");
        }
        return s.ToString();
    }

    /// <summary>A puppet manifest: one group, user, cron and package resource each.</summary>
    public string PuppetManifest()
    {
        var s = new StringBuilder();
        foreach (var g in GroupIndexes)
            s.Append($"group {{ '{GroupName(g)}': ensure => present, gid => {Gid(g)} }}\n");
        foreach (var u in UserIndexes)
            s.Append($"user {{ '{UserName(u)}': ensure => present, uid => {Uid(u)}, gid => '{GroupName(PrimaryGroup(u))}', " +
                     $"groups => [{string.Join(", ", SupplementaryGroups(u).Select(g => $"'{GroupName(g)}'"))}], membership => minimum, " +
                     $"home => '{Home(u)}', managehome => true, shell => '{Shell}', comment => '{Comment(u)}' }}\n");
        foreach (var j in JobIndexes)
            s.Append($"cron {{ '{JobName(j)}': ensure => present, user => '{JobUser(j)}', minute => '{Minute(j)}', hour => '{Hour(j)}', command => '{Command(j)}' }}\n");
        foreach (var p in packages)
            s.Append($"package {{ '{p}': ensure => installed }}\n");
        return s.ToString();
    }

    /// <summary>
    /// A shell script that prints the host's actual state of everything the workload manages, in the
    /// form of <see cref="ExpectedState"/>: accounts from the real databases, job lines from the real
    /// crontabs (each tool's marker comments left out), packages from dpkg.
    /// </summary>
    public string StateScript()
    {
        var s = new StringBuilder("set -u\n");
        foreach (var g in GroupIndexes)
            s.Append($"getent group {GroupName(g)} | cut -d: -f1,3\n");
        foreach (var u in UserIndexes)
        {
            var n = UserName(u);
            s.Append($"getent passwd {n} | cut -d: -f1,3,4,5,6,7\n");
            s.Append($"echo \"{n} groups: $(id -nG {n} | tr ' ' '\\n' | sort | paste -sd' ')\"\n");
            s.Append($"[ -d {Home(u)} ] && stat -c '%n %U' {Home(u)}\n");
        }
        foreach (var owner in CrontabOwners)
            s.Append($"crontab -l -u {owner} 2>&1 | grep -v -e '^#' -e '^$' | sort | sed 's/^/{owner}: /'\n");
        if (packages.Count > 0)
            s.Append($"dpkg-query -W -f='${{Package}} ${{Status}}\\n' {string.Join(' ', packages)}\n");
        return s.ToString();
    }

    /// <summary>What <see cref="StateScript"/> prints on a converged host.</summary>
    public string ExpectedState()
    {
        var s = new StringBuilder();
        foreach (var g in GroupIndexes)
            s.Append($"{GroupName(g)}:{Gid(g)}\n");
        foreach (var u in UserIndexes)
        {
            var n = UserName(u);
            s.Append($"{n}:{Uid(u)}:{Gid(PrimaryGroup(u))}:{Comment(u)}:{Home(u)}:{Shell}\n");
            var names = new[] { PrimaryGroup(u) }.Concat(SupplementaryGroups(u)).Select(GroupName).Order(StringComparer.Ordinal);
            s.Append($"{n} groups: {string.Join(' ', names)}\n");
            s.Append($"{Home(u)} {n}\n");
        }
        foreach (var owner in CrontabOwners)
            foreach (var line in JobIndexes.Where(j => JobUser(j) == owner)
                         .Select(j => $"{Minute(j)} {Hour(j)} * * * {Command(j)}").Order(StringComparer.Ordinal))
                s.Append($"{owner}: {line}\n");
        foreach (var p in packages)
            s.Append($"{p} install ok installed\n");
        return s.ToString();
    }

    /// <summary>
    /// Inode, change time and modification time of every file the workload's tools write: a no-op run
    /// must leave all of them alone, whatever the tool reports about itself.
    /// </summary>
    public const string FingerprintScript =
        "stat -c '%n %i %Z %Y' /etc/passwd /etc/shadow /etc/group /etc/gshadow /var/lib/dpkg/status " +
        "/var/spool/cron/crontabs /var/spool/cron/crontabs/* /home /home/* 2>/dev/null | sort";
}
