using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Worker.Providers;

namespace ImageGen.Tests.Unit;

/// <summary>A Midjourney quest's parameters become the prompt flags a proxy passes on.</summary>
public sealed class MidjourneyFlagsTests
{
    [Theory]
    [InlineData("16:9", 250, "7", "--ar 16:9 --stylize 250 --v 7")]
    [InlineData("1:1", null, "niji 6", "--niji 6")]
    [InlineData(null, null, null, "")]
    public void Parameters_become_flags(string? ratio, int? stylize, string? version, string flags)
    {
        Assert.True(ModelCatalog.TryGet("midjourney", out var model));
        var request = new ProviderRequest
        {
            QuestId = Guid.NewGuid(),
            Prompt = "a fox",
            Model = model,
            Parameters = new QuestParameters { AspectRatio = ratio, Stylize = stylize, Version = version },
        };

        Assert.Equal(flags, MidjourneyImageProvider.Flags(request));
    }
}
