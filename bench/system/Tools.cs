using System.Text.RegularExpressions;

namespace Converge.Bench.SystemWorkload;

/// <summary>
/// One configuration tool as the benchmark runs it inside a host: the files it reads, the command of
/// one run, and how its own report says how many resources it changed (the benchmark also checks the
/// files itself, see <see cref="Workload.FingerprintScript"/>).
/// </summary>
public sealed partial record Tool(
    string Name,
    IReadOnlyDictionary<string, string> Files,
    IReadOnlyList<string> Setup,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string?> Environment,
    string VersionCommand,
    Func<int, string, Reported> Report)
{
    /// <summary>Where each tool's input and private state live inside its host.</summary>
    public const string Dir = "/root/bench";

    /// <summary>Where the published converge directory is bind-mounted read-only inside the host.</summary>
    public const string ConvergeDir = "/opt/converge-bench";

    public static Tool Converge(Workload w) => new(
        "converge",
        new Dictionary<string, string> { [Dir + "/site.yaml"] = w.ConvergeManifest() },
        [],
        [ConvergeDir + "/converge", "apply", Dir + "/site.yaml"],
        new Dictionary<string, string?> { ["NO_COLOR"] = "1" },
        ConvergeDir + "/converge --version",
        // Exit 0: nothing changed; 2: something changed. The summary line has the count.
        (exit, output) => ConvergeSummary().Match(output) is { Success: true } m
            ? new Reported(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), exit is 0 or 2)
            : new Reported(-1, -1, false));

    // The same private dirs as bench/run.sh gives puppet, so nothing lands in /etc/puppet or /var/cache;
    // the module path is Debian's, where puppet-module-puppetlabs-cron-core puts the cron type
    // (Puppet 6 moved cron out of the core into that module).
    public static Tool Puppet(Workload w) => new(
        "puppet",
        new Dictionary<string, string> { [Dir + "/site.pp"] = w.PuppetManifest() },
        ["mkdir", "-p", Dir + "/etc", Dir + "/var", Dir + "/code", Dir + "/log", Dir + "/run"],
        ["puppet", "apply", "--detailed-exitcodes", "--confdir", Dir + "/etc", "--vardir", Dir + "/var", "--codedir", Dir + "/code",
            "--logdir", Dir + "/log", "--rundir", Dir + "/run", "--ssldir", Dir + "/var/ssl", "--publicdir", Dir + "/var/public",
            "--modulepath", "/usr/share/puppet/modules", "--logdest", "console", "--color", "false", Dir + "/site.pp"],
        new Dictionary<string, string?>(),
        "puppet --version",
        // --detailed-exitcodes: 0 no changes, 2 changes, 4/6 failures. Each changed property is one
        // "Notice: /Stage[main]/..." line; count the resources they name.
        (exit, output) => new Reported(
            PuppetChange().Matches(output).Select(m => m.Groups[1].Value).Distinct().Count(),
            exit is 4 or 6 ? 1 : 0,
            exit is 0 or 2));

    // ANSIBLE_HOME and the temp dirs as in bench/run.sh; the interpreter is named so ansible does not probe.
    public static Tool Ansible(Workload w)
    {
        var env = new Dictionary<string, string?>
        {
            ["ANSIBLE_HOME"] = Dir + "/home", ["ANSIBLE_LOCAL_TEMP"] = Dir + "/tmp", ["ANSIBLE_REMOTE_TEMP"] = Dir + "/tmp",
            ["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3", ["ANSIBLE_NOCOLOR"] = "1", ["ANSIBLE_RETRY_FILES_ENABLED"] = "0",
        };
        return new Tool(
            "ansible",
            new Dictionary<string, string> { [Dir + "/playbook.yml"] = w.AnsiblePlaybook() },
            ["mkdir", "-p", Dir + "/home", Dir + "/tmp"],
            ["ansible-playbook", "-i", "localhost,", Dir + "/playbook.yml"],
            env,
            "ANSIBLE_HOME=/root/bench/home ANSIBLE_LOCAL_TEMP=/root/bench/tmp ansible-playbook --version | head -n1",
            // The recap counts changed and failed tasks: a loop task counts once however many items changed.
            (exit, output) => AnsibleRecap().Match(output) is { Success: true } m
                ? new Reported(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value) + int.Parse(m.Groups[3].Value), exit == 0)
                : new Reported(-1, -1, false));
    }

    [GeneratedRegex(@"\d+ resources?: (\d+) changed, (?:.*?)(\d+) failed")]
    private static partial Regex ConvergeSummary();

    [GeneratedRegex(@"^Notice: /Stage\[main\]/Main/([A-Z][a-z_]*\[[^\]]+\])", RegexOptions.Multiline)]
    private static partial Regex PuppetChange();

    [GeneratedRegex(@"^localhost\s+:.*?changed=(\d+).*?unreachable=(\d+)\s+failed=(\d+)", RegexOptions.Multiline)]
    private static partial Regex AnsibleRecap();
}

/// <summary>What a tool said about one run: resources (or tasks) changed, failures, and whether its exit status was one it uses for success.</summary>
public sealed record Reported(int Changed, int Failed, bool ExitOk)
{
    public bool Parsed => Changed >= 0;
}
