using System.CommandLine;
using Converge.Engine;
using Converge.Manifests.Diagnostics;
using Converge.Remote;
using Converge.Reporting;

namespace Converge.Cli.Commands;

/// <summary>
/// <c>converge ssh [TARGET...] [--inventory FILE]</c>: converge a fleet over SSH. Each host runs the
/// shipped converge binary against the uploaded manifests; this side only schedules, streams progress
/// and renders the table. Exit code: 2 when any host changed, 4 when any failed, 6 for both.
/// </summary>
public sealed class SshCommand
{
    public readonly Argument<string[]> Targets = new("TARGET")
    {
        Description = "Ad-hoc hosts: host, user@host, host:port or user@host:port (alongside or instead of --inventory)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public readonly Option<string?> Inventory = new("--inventory", "-i") { Description = "Inventory YAML: hosts, groups, vars, defaults (docs/ssh.md)", HelpName = "FILE" };
    public readonly Option<string> Manifests = new("--manifests", "-m") { Description = "The manifest repo (or file) to converge the hosts to", HelpName = "PATH", DefaultValueFactory = _ => "." };
    public readonly Option<string?> Limit = new("--limit", "-l") { Description = "Only hosts whose name or group matches one of these comma-separated globs; '!glob' excludes", HelpName = "GLOBS" };
    public readonly Option<bool> Noop = new("--noop", "-n") { Description = "Preview every host: show the changes (with diffs) a run would make; change nothing" };
    public readonly Option<string?> Tags = new("--tags", "-t") { Description = "Run only resources with one of these comma-separated tags (and what they require)", HelpName = "TAGS" };
    public readonly Option<int> Parallel = new("--parallel", "-p") { Description = "Hosts converging at once", HelpName = "N", DefaultValueFactory = _ => 10 };
    public readonly Option<string?> Batch = new("--batch") { Description = "Waves: comma-separated sizes, a count or a % of the hosts; the last repeats (1,25%,100%: one host, then a quarter of them, then the rest)", HelpName = "SIZES" };
    public readonly Option<string?> MaxFail = new("--max-fail") { Description = "Stop starting waves once more than this many hosts (or this % of them) have failed; 0 stops after any failure", HelpName = "N|P%" };
    public readonly Option<string?> User = new("--user", "-u") { Description = "User for hosts that do not name one (default: your user name)", HelpName = "USER" };
    public readonly Option<string?> Identity = new("--identity") { Description = "Private key file for hosts that do not name one (default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)", HelpName = "FILE" };
    public readonly Option<bool> Become = new("--become") { Description = "Run converge through 'sudo -n' on hosts that do not say otherwise" };
    public readonly Option<string?> KnownHostsFile = new("--known-hosts") { Description = "known_hosts file to check host keys against (default ~/.ssh/known_hosts)", HelpName = "FILE" };
    public readonly Option<bool> AcceptNew = new("--accept-new") { Description = "Record the key of a host not yet in known_hosts instead of refusing it (a changed key is always refused)" };
    public readonly Option<string> PassphraseEnv = new("--passphrase-env") { Description = "Environment variable holding the passphrase of encrypted key files (unset: asked on the terminal, once per key file)", HelpName = "VAR", DefaultValueFactory = _ => "CONVERGE_SSH_PASSPHRASE" };
    public readonly Option<double> ConnectTimeout = new("--connect-timeout") { Description = "Seconds to wait for a host to answer", HelpName = "SECONDS", DefaultValueFactory = _ => 10 };
    public readonly Option<double> KeepAlive = new("--keepalive") { Description = "Seconds between SSH keep-alive messages (0: none)", HelpName = "SECONDS", DefaultValueFactory = _ => 15 };
    public readonly Option<string?> PayloadDir = new("--payload-dir") { Description = "Directory of converge builds to ship: converge-linux-x64, converge-linux-arm64 (env CONVERGE_PAYLOAD_DIR)", HelpName = "DIR" };
    public readonly Option<string?> RemoteCacheDir = new("--remote-cache-dir") { Description = "Where hosts keep the converge binary (default /var/cache/converge/bin as root, ~/.cache/converge/bin otherwise)", HelpName = "DIR" };
    public readonly Option<string?> ReportDir = new("--report-dir") { Description = "Where each host's report is saved, as DIR/RUNID/HOST.json (default ~/.local/state/converge/ssh)", HelpName = "DIR" };
    public readonly Option<bool> Clean = new("--clean") { Description = "Remove the cached converge binary from each host after its run" };
    public readonly Option<bool> Diff = new("--diff") { Description = "Show content diffs of applied changes too (--noop always shows them)" };

    public Command Build(CommonOptions common)
    {
        var cmd = new Command("ssh", "Converge hosts over SSH: ship converge and the manifests to each host, run it there, report per host.");
        cmd.Arguments.Add(Targets);
        foreach (var o in new Option[] { Inventory, Manifests, Limit, Noop, Tags, Parallel, Batch, MaxFail, User, Identity, Become,
                     KnownHostsFile, AcceptNew, PassphraseEnv, ConnectTimeout, KeepAlive, PayloadDir, RemoteCacheDir, ReportDir, Clean, Diff })
            cmd.Options.Add(o);
        Targets.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (token.Value.StartsWith('-') && token.Value.Length > 1)
                    result.AddError($"unknown option '{token.Value}'");
        });
        cmd.SetAction((parse, ct) => RunAsync(common.Read(parse), parse, ct));
        return cmd;
    }

    private async Task<int> RunAsync(Settings settings, ParseResult p, CancellationToken ct)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var identity = p.GetValue(Identity);
        var fallback = new Remote.Inventory.Fallback(
            p.GetValue(User) ?? Environment.UserName,
            IdentityFile: identity is null ? null : Path.GetFullPath(identity),
            Become: p.GetValue(Become));

        var hosts = new List<InventoryHost>();
        if (p.GetValue(Inventory) is { } inventoryPath)
        {
            string text;
            try { text = File.ReadAllText(inventoryPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"converge: cannot read inventory {inventoryPath}: {e.Message}");
                return ExitCodes.ManifestError;
            }
            var diagnostics = new DiagnosticBag();
            var parsed = Remote.Inventory.Parse(inventoryPath, text, fallback, diagnostics);
            if (!ManifestPipeline.Report(diagnostics.Sorted(), Console.Error)) return ExitCodes.ManifestError;
            hosts.AddRange(parsed);
        }
        foreach (var target in p.GetValue(Targets) ?? [])
        {
            if (Remote.Inventory.ParseTarget(target, fallback, out var error) is { } h) hosts.Add(h);
            else
            {
                Console.Error.WriteLine($"converge: {error}");
                return ExitCodes.Usage;
            }
        }
        if (hosts.Count == 0)
        {
            Console.Error.WriteLine("converge: no hosts: name them (converge ssh root@10.0.0.5) or give --inventory FILE");
            return ExitCodes.Usage;
        }
        var duplicate = hosts.GroupBy(h => h.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            Console.Error.WriteLine($"converge: host '{duplicate.Key}' is named twice");
            return ExitCodes.Usage;
        }
        var selected = Remote.Inventory.Limit(hosts, p.GetValue(Limit));
        if (selected.Count == 0)
        {
            Console.Error.WriteLine($"converge: --limit '{p.GetValue(Limit)}' matches none of the {hosts.Count} hosts");
            return ExitCodes.Usage;
        }

        BatchPlan.Amount? maxFail = null;
        try
        {
            if (p.GetValue(Batch) is { } batch) BatchPlan.ParseSpec(batch);
            if (p.GetValue(MaxFail) is { } mf) maxFail = BatchPlan.ParseMaxFail(mf);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"converge: {e.Message}");
            return ExitCodes.Usage;
        }
        if (p.GetValue(Parallel) < 1)
        {
            Console.Error.WriteLine("converge: --parallel must be at least 1");
            return ExitCodes.Usage;
        }

        var manifests = p.GetValue(Manifests)!;
        if (!Directory.Exists(manifests) && !File.Exists(manifests))
        {
            Console.Error.WriteLine($"converge: manifests not found: {manifests}");
            return ExitCodes.ManifestError;
        }

        var knownHostsPath = p.GetValue(KnownHostsFile) ?? Path.Combine(home, ".ssh", "known_hosts");
        KnownHosts known;
        try { known = KnownHosts.Load(knownHostsPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"converge: cannot read known_hosts {knownHostsPath}: {e.Message}");
            return ExitCodes.Usage;
        }
        var passphraseVar = p.GetValue(PassphraseEnv)!;
        var defaultIdentities = new[] { "id_ed25519", "id_ecdsa", "id_rsa" }
            .Select(f => Path.Combine(home, ".ssh", f)).Where(File.Exists).ToList();
        // Every key file the selected hosts use, read once now: a passphrase is asked once per file, before
        // the live progress starts, and only when there is a terminal and the variable is not set.
        var passphrase = NonEmpty(Environment.GetEnvironmentVariable(passphraseVar));
        var keyFiles = selected.SelectMany(h => h.IdentityFile is { } f ? [f] : defaultIdentities);
        Func<string, int, string?>? prompt = passphrase is null && TerminalPrompt.Available()
            ? (file, attempt) => TerminalPrompt.AskSecret(
                (attempt > 1 ? "Wrong passphrase, try again. " : "") + $"Enter passphrase for key '{file}': ", ct)
            : null;
        // ssh-agent (SSH_AUTH_SOCK): its keys are offered to hosts without an identity of their own, and a
        // key file it holds is signed with there (no passphrase). One that cannot be reached is only a warning.
        var agent = SshAgent.FromEnvironment();
        IReadOnlyList<SshAgent.Identity>? agentKeys = null;
        if (agent is not null)
        {
            try { agentKeys = agent.ListIdentities(); }
            catch (IOException e)
            {
                Console.Error.WriteLine($"converge: warning: not using ssh-agent: {e.Message}");
                agent = null;
            }
        }
        var keys = KeyRing.Load(keyFiles, passphrase, passphraseVar, prompt, agent, agentKeys);
        if (keys is null)
        {
            Console.Error.WriteLine("converge: interrupted while asking for a key's passphrase; no host was contacted");
            return ExitCodes.Failures;
        }
        var started = DateTimeOffset.UtcNow;
        var stateHome = Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(home, ".local", "state");
        var options = new RemoteRunOptions
        {
            Ssh = new SshOptions
            {
                KnownHosts = known,
                AcceptNew = p.GetValue(AcceptNew),
                Keys = keys,
                DefaultIdentityFiles = defaultIdentities,
                ConnectTimeout = TimeSpan.FromSeconds(p.GetValue(ConnectTimeout)),
                KeepAlive = p.GetValue(KeepAlive) > 0 ? TimeSpan.FromSeconds(p.GetValue(KeepAlive)) : Timeout.InfiniteTimeSpan,
            },
            Payloads = new PayloadLocator(p.GetValue(PayloadDir) ?? NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_PAYLOAD_DIR"))),
            Bundle = new Bundle(manifests, ShippedModules.SearchPath()),
            Noop = p.GetValue(Noop),
            Tags = (p.GetValue(Tags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Clean = p.GetValue(Clean),
            RemoteCacheDir = p.GetValue(RemoteCacheDir),
            ReportDir = p.GetValue(ReportDir) ?? Path.Combine(stateHome, "converge", "ssh"),
            RunId = RunContext.NewRunId(started),
            Operator = Operator(),
        };

        var live = !Console.IsErrorRedirected && settings.Color;
        var view = new FleetView(Console.Error, live);
        var run = new RemoteRun(options);
        using var interrupted = ct.Register(() => Console.Error.WriteLine(
            "converge: interrupted: no more hosts will start; running hosts finish their current resource, skip the rest and report (Ctrl-C again: stop waiting)"));
        // Running hosts get the token as an interrupt, not a cancellation: their remote converge is told
        // to stop as a local one is, and its report is waited for.
        var (results, stopped) = await new FleetRunner(new FleetOptions { Parallel = p.GetValue(Parallel), Batch = p.GetValue(Batch), MaxFail = maxFail })
            .RunAsync(selected, h => run.RunAsync(h, view.Update, ct), ct);
        view.Finish();

        Console.Out.WriteLine();
        FleetView.WriteDetails(Console.Out, results, diffs: options.Noop || p.GetValue(Diff));
        if (results.Any(r => r.Report is not null)) Console.Out.WriteLine();
        FleetView.WriteTable(Console.Out, results, timings: settings.Verbosity > 0);
        if (stopped is not null) Console.Out.WriteLine($"stopped: {stopped}");
        Console.Out.WriteLine($"reports: {Path.Combine(options.ReportDir, options.RunId)}");
        return FleetRunner.ExitCode(results);
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>
    /// The operator as each host's report names them: the person (SUDO_USER when run through sudo) at
    /// this machine, or <c>CONVERGE_OPERATOR</c> when set (a CI job naming whoever triggered it).
    /// </summary>
    private static string Operator()
    {
        if (NonEmpty(Environment.GetEnvironmentVariable("CONVERGE_OPERATOR")) is { } set) return set;
        var (user, sudoUser) = RunContext.CurrentUser();
        return $"{sudoUser ?? user}@{Environment.MachineName}";
    }
}
