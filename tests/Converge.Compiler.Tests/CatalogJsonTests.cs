using System.Text.Json.Nodes;

namespace Converge.Compiler.Tests;

public class CatalogJsonTests
{
    [Fact]
    public void Write_Catalog_HasFormatVersionAndEveryField()
    {
        using var repo = new TempRepo()
            .Write("modules/web/module.yaml", """
                resources:
                  - directory: /srv/www
                  - file: /srv/www/index.html
                    content: "<h1>{{ node }}</h1>"
                    owner: { name: www-data, uid: 33 }
                    require: directory[/srv/www]
                    notify: exec[reload]
                    tags: frontend
                    noop: true
                  - exec: reload
                """)
            .Write("site.yaml", "include: [web]\n");
        var catalog = repo.Compile().ShouldSucceed();
        var json = CatalogJson.Write(catalog);
        CatalogJson.Write(catalog).ShouldBe(json);

        var doc = JsonNode.Parse(json)!;
        doc["formatVersion"]!.GetValue<int>().ShouldBe(1);
        doc["node"]!.GetValue<string>().ShouldBe("web-1");
        doc["modules"]!.AsArray().Select(m => m!.GetValue<string>()).ShouldBe(["web"]);
        var file = doc["resources"]![1]!;
        file["id"]!.GetValue<string>().ShouldBe("file[/srv/www/index.html]");
        file["type"]!.GetValue<string>().ShouldBe("file");
        file["title"]!.GetValue<string>().ShouldBe("/srv/www/index.html");
        file["source"]!.GetValue<string>().ShouldBe(repo.PathOf("modules/web/module.yaml") + ":3:5");
        file["module"]!.GetValue<string>().ShouldBe("web");
        file["properties"]!["content"]!.GetValue<string>().ShouldBe("<h1>web-1</h1>");
        file["properties"]!["owner"]!["uid"]!.GetValue<string>().ShouldBe("33");
        file["require"]!.AsArray().Single()!.GetValue<string>().ShouldBe("directory[/srv/www]");
        file["notify"]!.AsArray().Single()!.GetValue<string>().ShouldBe("exec[reload]");
        file["before"]!.AsArray().ShouldBeEmpty();
        file["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["frontend", "web"]);
        file["sensitive"]!.GetValue<bool>().ShouldBeFalse();
        file["noop"]!.GetValue<bool>().ShouldBeTrue();
        json.ShouldContain("<h1>");
    }
}
