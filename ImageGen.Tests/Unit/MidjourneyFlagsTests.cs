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
        Assert.True(ModelCatalog.Default.TryGet("midjourney", out var model));
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

/// <summary>A proxy's answer cannot send the worker to fetch from inside the network: only its own origin or https image hosts.</summary>
public sealed class MidjourneyImageUrlTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5123/mj/image/1/5", true)]
    [InlineData("https://cdn.discordapp.com/attachments/1/2/grid.png", true)]
    [InlineData("https://media.discordapp.net/x.png", true)]
    [InlineData("http://cdn.discordapp.com/x.png", false)]
    [InlineData("http://127.0.0.1:5124/mj/image/1/5", false)]
    [InlineData("http://169.254.169.254/latest/meta-data", false)]
    [InlineData("https://discordapp.com.attacker.example/x.png", false)]
    [InlineData("https://user:pass@cdn.discordapp.com/x.png", false)]
    [InlineData("not a url", false)]
    public void Image_links_are_fetched_only_from_the_proxy_or_its_image_hosts(string url, bool allowed)
    {
        var options = new ProviderOptions { Midjourney = new MidjourneyAccountOptions { Endpoint = new Uri("http://127.0.0.1:5123"), ApiKey = "secret" } };
        var provider = new MidjourneyImageProvider(new HttpClient(), Microsoft.Extensions.Options.Options.Create(options));

        Assert.Equal(allowed, provider.ImageUrl(url) is not null);
    }

    [Fact]
    public void A_describe_answer_becomes_its_prompts_without_their_numbers()
    {
        const string keycaps = "1\uFE0F\u20E3 a harbour at dawn --ar 3:2\n\n2\uFE0F\u20E3 boats in fog\n\n3\u20E3 a quiet pier\n\n4\uFE0F\u20E3 gulls over water, muted";
        Assert.Equal(["a harbour at dawn --ar 3:2", "boats in fog", "a quiet pier", "gulls over water, muted"], MidjourneyImageProvider.Descriptions(keycaps));
        Assert.Equal(["one", "two"], MidjourneyImageProvider.Descriptions("1. one\n2) two"));
        Assert.Empty(MidjourneyImageProvider.Descriptions(null));
        // More than four is cut at four.
        Assert.Equal(4, MidjourneyImageProvider.Descriptions("1. a\n2. b\n3. c\n4. d\n1. e").Count);
    }
}
