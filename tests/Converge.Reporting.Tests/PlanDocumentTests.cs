using Converge.Engine;
using Converge.Providers.Contract;
using Converge.Reporting.Plans;

namespace Converge.Reporting.Tests;

/// <summary>The plan file round-trips, and the drift between two plans is listed in a stable order, naming fields.</summary>
public class PlanDocumentTests
{
    private static PlanEntry Entry(string id, string status = "would-change", string actual = "hmac-sha256:a", string changes = "hmac-sha256:c",
        IReadOnlyList<Change>? shown = null, Dictionary<string, string>? fields = null) => new(id, status, "site.yaml:3:5")
    {
        Changes = shown ?? [new Change("mode", "0600", "0644", ["chmod", "0644", "/etc/x"])],
        DesiredDigest = "hmac-sha256:d-" + id,
        ActualDigest = actual,
        ChangesDigest = changes,
        ActualFields = fields ?? new Dictionary<string, string> { ["status.mode"] = "1111", ["content"] = "2222" },
    };

    private static PlanDocument Plan(params PlanEntry[] entries) => new()
    {
        PlanId = "20261127T070651Z-ad1baf",
        CreatedAt = new DateTimeOffset(2026, 11, 27, 7, 6, 51, TimeSpan.Zero),
        Host = "web-01",
        Node = "web-01",
        User = "root",
        ManifestPath = "/srv/manifests",
        Revision = new Revision("3a5bff00f3f717f3f988e976c25e63dc04d1f4d6", "Alice <alice@example.com>", "app: 4 workers", null, false),
        CatalogDigest = "hmac-sha256:cat",
        KeyId = "f15ede909f952158",
        Tags = ["web"],
        Summary = new RunSummary(entries.Length, 0, 0, entries.Length, 0, 0, 0),
        ExitCode = 2,
        Resources = entries,
    };

    [Fact]
    public void Write_ThenRead_GivesTheSamePlan()
    {
        var plan = Plan(Entry("file[/etc/x]"), Entry("exec[y]", status: "unknown", actual: null!, changes: null!, shown: []) with
        {
            Message = "depends on pending change to file[/etc/x]", ActualFields = null,
        });
        var bytes = plan.ToJsonBytes();

        var read = PlanDocument.Read("plan.json", bytes);

        read.ToJsonBytes().ShouldBe(bytes);
        read.Revision.ShouldBe(plan.Revision);
        read.Resources[0].Changes.Single().Argv.ShouldBe(["chmod", "0644", "/etc/x"]);
        read.Resources[1].ActualDigest.ShouldBeNull();
        PlanCheck.Drift(plan, read).ShouldBeEmpty();
    }

    [Fact]
    public void Drift_ListsEverythingInOrder_FieldsByName()
    {
        var saved = Plan(Entry("file[/etc/a]"), Entry("file[/etc/b]"), Entry("file[/etc/gone]"));
        var now = Plan(
            Entry("file[/etc/a]", actual: "hmac-sha256:other", changes: "hmac-sha256:c2",
                shown: [new Change("mode", "0640", "0644", ["chmod", "0644", "/etc/x"])],
                fields: new Dictionary<string, string> { ["status.mode"] = "9999", ["content"] = "2222" }),
            Entry("file[/etc/b]"),
            Entry("file[/etc/new]")) with
        {
            Revision = new Revision("9c1d2e4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", null, null, null, false),
            CatalogDigest = "hmac-sha256:cat2",
        };

        PlanCheck.Drift(saved, now).ShouldBe([
            "manifest revision changed: 3a5bff0 → 9c1d2e4",
            "desired state changed: the compiled catalog differs from the plan's",
            "file[/etc/a]: actual state changed since the plan (status.mode); planned mode 0600 → 0644, now mode 0640 → 0644",
            "file[/etc/gone]: removed from the manifests since the plan",
            "file[/etc/new]: added to the manifests since the plan",
        ]);
    }

    [Fact]
    public void Drift_AnotherKey_SaysSoAndStops()
    {
        var saved = Plan(Entry("file[/etc/a]"));
        var now = Plan(Entry("file[/etc/a]", actual: "hmac-sha256:z")) with { KeyId = "0000000000000000", Host = "db-07" };

        PlanCheck.Drift(saved, now).ShouldBe([
            "host: the plan is for host web-01; this is db-07",
            "digest key: the plan was made with key f15ede909f952158, this state directory has key 0000000000000000 (a plan is checked on the host and state directory that made it)",
        ]);
    }
}
