namespace Converge.Providers.Tests.Common;

public class UnifiedDiffTests
{
    private static string Lines(int from, int to) => string.Concat(Enumerable.Range(from, to - from + 1).Select(i => $"l{i}\n"));

    [Fact]
    public void Render_Equal_IsEmpty() => UnifiedDiff.Render("a\n", "a\n", "x", "x").ShouldBe("");

    [Fact]
    public void Render_FarApartChanges_TwoHunksWithThreeLinesOfContext()
    {
        var old = Lines(1, 20);
        var @new = old.Replace("l2\n", "L2\n").Replace("l18\n", "L18\n");
        UnifiedDiff.Render(old, @new, "a", "b").ShouldBe(
            "--- a\n+++ b\n" +
            "@@ -1,5 +1,5 @@\n l1\n-l2\n+L2\n l3\n l4\n l5\n" +
            "@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+L18\n l19\n l20\n");
    }

    [Fact]
    public void Render_CloseChanges_ShareOneHunk()
    {
        var old = Lines(1, 12);
        var @new = old.Replace("l3\n", "L3\n").Replace("l9\n", "L9\n");
        UnifiedDiff.Render(old, @new, "a", "b").ShouldStartWith("--- a\n+++ b\n@@ -1,12 +1,12 @@\n l1\n l2\n-l3\n+L3\n");
    }

    [Fact]
    public void Render_MissingFinalNewline_IsMarked()
    {
        UnifiedDiff.Render("a\nb", "a\nb\n", "x", "x").ShouldBe(
            "--- x\n+++ x\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
    }

    [Fact]
    public void Render_ToEmpty_RemovesAll()
    {
        UnifiedDiff.Render("a\nb\n", "", "x", "x").ShouldBe("--- x\n+++ x\n@@ -1,2 +0,0 @@\n-a\n-b\n");
    }
}
