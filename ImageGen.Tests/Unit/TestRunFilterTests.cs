using ImageGen.Tests.Graph;

namespace ImageGen.Tests.Unit;

/// <summary>The main graph starts for a run that may select one of its tests, and only then.</summary>
public sealed class TestRunFilterTests
{
    [Theory]
    [InlineData(false, "-class", "ImageGen.Tests.Database.QuestTransitionTests")]
    [InlineData(false, "-namespace", "ImageGen.Tests.Database")]
    [InlineData(false, "--filter-namespace", "ImageGen.Tests.Unit", "ImageGen.Tests.Storage")]
    [InlineData(false, "-method", "ImageGen.Tests.Unit.CatalogTests.*")]
    [InlineData(false, "-class", "*TransitionTests")]
    [InlineData(true)]
    [InlineData(true, "-xml", "results.xml")]
    [InlineData(true, "-namespace", "ImageGen.Tests")]
    [InlineData(true, "-namespace", "ImageGen.Tests.Database", "-class", "ImageGen.Tests.Graph.ApiReferenceTests")]
    [InlineData(true, "--filter-class", "ImageGen.Tests.Unit.CatalogTests", "ImageGen.Tests.Browser.GalleryTests")]
    [InlineData(true, "-method", "ImageGen.Tests.Graph.ImageTests.*")]
    [InlineData(true, "-class", "*")]
    [InlineData(true, "-class", "ImageGen.Tests.Database.QuestTransitionTests", "-trait", "kind=slow")]
    [InlineData(true, "--treenode-filter", "/*/*/*/*")]
    public void The_main_graph_starts_when_the_filter_may_select_a_test_that_uses_it(bool expected, params string[] arguments) =>
        Assert.Equal(expected, TestRunFilter.MaySelectTestsUsing(typeof(GraphFixture), ["ImageGen.Tests", .. arguments]));
}
