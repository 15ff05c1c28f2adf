using Converge.Compiler.Catalog;
using Converge.Providers.Contract;

namespace Converge.Engine.Tests;

public class RedactorTests
{
    private const string Hash = "$6$pepper99$Tk3Qd9hD2n7c1yY0wIqgOK3d6xQ6rXf0b7hP0kA2v9m";

    private sealed record Spec : ResourceSpec;

    private static Spec Deploy(bool sensitive = false, params string[] properties) => new()
    {
        Id = new ResourceId("user", "deploy"),
        Sensitive = sensitive,
        SensitiveProperties = properties.ToHashSet(),
    };

    private static Change PasswordChange(IReadOnlySet<int>? sensitiveArgs) =>
        new("password", "!", Hash, ["usermod", "--password", Hash, "deploy"]) { SensitiveArgs = sensitiveArgs };

    [Fact]
    public void Redact_MarkedArgument_OnlyThatElementIsRedacted()
    {
        var c = new Redactor([]).Redact(Deploy(false, "password"), [PasswordChange(new HashSet<int> { 2 })]).Single();
        (c.From, c.To).ShouldBe(("(redacted)", "(redacted)"));
        c.Argv.ShouldBe(["usermod", "--password", "(redacted)", "deploy"]);
    }

    [Fact]
    public void Redact_SensitiveChangeWithoutMarks_WholeArgvIsRedacted()
    {
        // The provider did not say which element is the secret, so none of them can be shown.
        new Redactor([]).Redact(Deploy(false, "password"), [PasswordChange(null)]).Single().Argv.ShouldBe(["(redacted)"]);
    }

    [Fact]
    public void Redact_ResourceMarkedSensitive_WholeArgvIsRedactedEvenForEnsure()
    {
        Change[] changes = [new("ensure", "absent", "present", ["useradd", "--comment", "Jane Roe", "deploy"]), PasswordChange(new HashSet<int> { 2 })];
        var redacted = new Redactor([]).Redact(Deploy(sensitive: true), changes);
        redacted[0].Argv.ShouldBe(["(redacted)"], "sensitive: true hides every property, and useradd carries them");
        (redacted[0].From, redacted[0].To).ShouldBe(("absent", "present"));
        redacted[1].Argv.ShouldBe(["(redacted)"]);
    }

    [Fact]
    public void Redact_MarkedArgumentOfInsensitiveProperty_IsRedactedAndSecretsScrubbedInTheRest()
    {
        // useradd is the ensure change: its values stay, except the one marked and any secret's text.
        var change = new Change("ensure", "absent", "present", ["useradd", "--comment", "Ops 4711", "--home-dir", "/srv/tok-s3cr3t", "deploy"])
        {
            SensitiveArgs = new HashSet<int> { 2 },
        };
        new Redactor(["s3cr3t"]).Redact(Deploy(false, "comment"), [change]).Single().Argv
            .ShouldBe(["useradd", "--comment", "(redacted)", "--home-dir", "/srv/tok-(redacted)", "deploy"]);
    }

    [Fact]
    public void Redact_NoSecretsNoMarks_ChangeIsUntouched()
    {
        var change = new Change("shell", "/bin/sh", "/bin/bash", ["usermod", "--shell", "/bin/bash", "deploy"]);
        new Redactor([]).Redact(Deploy(), [change]).Single().ShouldBeSameAs(change);
    }
}
