namespace Converge.Providers.Tests;

public class BuiltInProvidersTests
{
    [Fact]
    public void Registry_KnowsEveryBuiltInType()
    {
        var registry = BuiltInProviders.Registry();
        registry.TypeNames.Order(StringComparer.Ordinal).ShouldBe(["authorized_key", "cron", "directory", "exec", "file", "group", "line", "link", "package", "service", "user"]);
        registry.Get("file").Type.ShouldBe("file");
        registry.IsKnown("servic").ShouldBeFalse();
    }

    [Fact]
    public void PathTypes_SpecsImplementIManagesPath()
    {
        foreach (var type in new[] { "file", "directory", "link" })
        {
            var provider = BuiltInProviders.Registry().Get(type);
            var properties = type == "link" ? new (string, object)[] { ("target", "/x") } : [];
            var bag = new DiagnosticBag();
            var spec = provider.Parse(Manifest.Resource(type, "/srv/x", properties), bag);
            bag.Count.ShouldBe(0);
            spec.ShouldBeAssignableTo<IManagesPath>()!.Path.ShouldBe("/srv/x");
        }
    }

    [Fact]
    public void Parse_SensitiveResource_SpecIsSensitive()
    {
        var provider = BuiltInProviders.Registry().Get("file");
        var spec = provider.Parse(Manifest.Resource("file", "/etc/shadow-ish", sensitive: true, ("content", "x")), new DiagnosticBag())!;
        spec.Sensitive.ShouldBeTrue();
        spec.IsSensitive("content").ShouldBeTrue();
    }

    [Fact]
    public void PropertyNames_NeverTheCompilersCommonKeys()
    {
        // The compiler takes these keys of every resource for itself (ResourceExpander.CommonKeys), so a
        // property of the same name never reaches Parse: line's 'before' anchor was unusable that way.
        string[] common = ["require", "before", "notify", "subscribe", "tags", "sensitive", "noop", "when", "for_each"];
        var registry = BuiltInProviders.Registry();
        foreach (var type in registry.TypeNames)
            registry.Get(type).PropertyNames.Intersect(common).ShouldBeEmpty($"{type} declares a property the compiler takes");
    }
}
