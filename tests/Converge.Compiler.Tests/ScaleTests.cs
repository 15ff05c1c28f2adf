using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Converge.Compiler.Tests;

public class ScaleTests(ITestOutputHelper output)
{
    [Fact]
    public void Compile_TenThousandResources_Works()
    {
        var sb = new StringBuilder("vars:\n  owner: root\nresources:\n");
        for (var i = 0; i < 10_000; i++)
        {
            sb.Append($"  - file: /srv/data/f{i}\n    mode: \"0644\"\n    owner: root\n");
            if (i % 10 == 0) sb.Append("    group: \"{{ vars.owner }}\"\n");
        }
        using var repo = new TempRepo().Write("big.yaml", sb.ToString());

        repo.Compile(path: repo.PathOf("big.yaml")).ShouldSucceed(); // warm-up: JIT, Scriban statics
        var watch = Stopwatch.StartNew();
        var catalog = repo.Compile(path: repo.PathOf("big.yaml")).ShouldSucceed();
        watch.Stop();

        catalog.Resources.Count.ShouldBe(10_000);
        catalog.Resources[10].Text("group").ShouldBe("root");
        // Timing is asserted in bench/, not here; printed so a slow change is visible in test logs.
        output.WriteLine($"10,000 resources compiled in {watch.ElapsedMilliseconds} ms");
        var text = File.ReadAllText(repo.PathOf("big.yaml"));
        watch.Restart();
        Converge.Manifests.Syntax.YamlLoader.Load("big.yaml", text, new Converge.Manifests.Diagnostics.DiagnosticBag());
        output.WriteLine($"of which loading the YAML alone takes about {watch.ElapsedMilliseconds} ms");
    }
}
