using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>
/// OpenAI's billing model: the reservation covers every token OpenAI bills at its worst (prompt, input images, output,
/// previews), and the charge is what the reported usage says.
/// </summary>
public sealed class OpenAIPricesTests
{
    private static readonly OpenAIPrices GptImage15 = new(TextInput: 5m, ImageInput: 10m, Output: 40m);

    private static ValidQuest Valid(string prompt, int n = 1, int images = 0, bool mask = false)
    {
        var request = new CreateQuestRequest
        {
            Prompt = prompt, Model = ModelCatalog.GptImage15, Size = "1024x1024", Quality = "low", N = n,
            Images = images > 0 ? [.. Enumerable.Range(0, images).Select(_ => Guid.NewGuid())] : null,
            Mask = mask ? Guid.NewGuid() : null,
        };
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, request, out var quest, () => 1));
        return quest!;
    }

    [Fact]
    public void A_long_prompt_costs_more_than_a_short_one()
    {
        var shortPrompt = GptImage15.Estimate(Valid("a cat"));
        var longPrompt = GptImage15.Estimate(Valid(new string('x', 32_000)));
        // 32,000 prompt tokens at $5 per million: 16 more cents, on top of the image.
        Assert.Equal(shortPrompt + 16, longPrompt);
    }

    [Fact]
    public void Input_images_and_the_mask_are_reserved_at_their_most_and_n_multiplies_the_output()
    {
        var one = GptImage15.Estimate(Valid("a cat"));
        var sixteen = GptImage15.Estimate(Valid("a cat", images: 16, mask: true));
        Assert.Equal(CostRule.CreditsFor((17m * OpenAIPrices.MaxTokensPerInputImage * 10m + (5m * 5m) + (272m * 40m)) / 1_000_000m), sixteen);
        Assert.True(sixteen > one);
        // Four images: four times the output tokens (no preview frames for several).
        Assert.Equal(CostRule.CreditsFor(((4m * 272m * 40m) + (5m * 5m)) / 1_000_000m), GptImage15.Estimate(Valid("a cat", n: 4)));
    }

    [Theory]
    [InlineData(1000, 800, 200, 272, 1)]          // 800 x $5 + 200 x $10 + 272 x $40 = $0.01688: 2 credits
    [InlineData(40_000, 32_000, 8_000, 6208, 2)]  // $0.16 + $0.08 + $0.24832: 49 credits
    public void The_charge_is_what_the_usage_reports(long input, long text, long image, long output, int expectedCase)
    {
        var billed = GptImage15.Billed(input, text, image, output);
        Assert.Equal(expectedCase == 1 ? 2 : 49, billed);
        // Without the split, every input token is priced as an image token (never less than the truth).
        Assert.True(GptImage15.Billed(input, null, null, output) >= billed);
    }

    [Fact]
    public void The_reservation_covers_the_usage_a_request_can_report()
    {
        // A 1,000-character prompt and two input images at their most: the charge never exceeds what was held.
        var quest = Valid(new string('y', 1000), images: 2);
        var held = GptImage15.Estimate(quest);
        Assert.True(GptImage15.Billed(1000 + (2L * OpenAIPrices.MaxTokensPerInputImage), 1000, 2L * OpenAIPrices.MaxTokensPerInputImage, 272) <= held);
    }
}
