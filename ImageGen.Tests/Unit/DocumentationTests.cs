using System.Reflection;
using System.Text.RegularExpressions;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The README is a front door (short, with every page it promises), and the API guide's list of error codes is the
/// list the code has: none missing, none made up.
/// </summary>
public sealed partial class DocumentationTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void The_readme_is_short_and_every_page_it_links_exists()
    {
        var readme = File.ReadAllLines(Path.Combine(Root, "README.md"));
        Assert.True(readme.Length <= 200, $"README.md has {readme.Length} lines");
        var links = readme.SelectMany(l => Link().Matches(l)).Select(m => m.Groups[1].Value).Where(l => !l.StartsWith("http", StringComparison.Ordinal)).ToList();
        foreach (var page in new[] { "docs/api.md", "docs/webhooks.md", "docs/operations.md", "docs/architecture.md", "docs/configuration.md", "docs/benchmarks.md",
            "docs/deploying.md", "CONTRIBUTING.md", "SECURITY.md" })
        {
            Assert.Contains(page, links);
        }

        Assert.All(links, l => Assert.True(File.Exists(Path.Combine(Root, l.Split('#')[0])) || Directory.Exists(Path.Combine(Root, l)), $"{l} is linked and missing"));
    }

    [Fact]
    public void The_api_guide_lists_exactly_the_error_codes_the_code_has()
    {
        var codes = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();
        var guide = File.ReadAllText(Path.Combine(Root, "docs", "api.md"));
        var section = guide[guide.IndexOf("## Error codes", StringComparison.Ordinal)..];
        var listed = Code().Matches(section).Select(m => m.Groups[1].Value).Where(c => !c.Contains('/') && !c.Contains(' ')).ToHashSet();
        Assert.Empty(codes.Except(listed).Order());
        Assert.Empty(listed.Except(codes).Where(c => Regex.IsMatch(c, "^[a-z_0-9]+$") && c.Contains('_')).Order());
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ImageGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (ImageGen.sln) was not found above the test binaries.");
    }
}
