using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

public sealed class QuestValidatorTests
{
    private static CreateQuestRequest Valid() => new() { Prompt = "a red kite over a green hill", Model = ModelCatalog.LocalSketch, Width = 512, Height = 512, Seed = 42 };

    private static FieldError SingleError(CreateQuestRequest request)
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, request, out var quest);
        Assert.Null(quest);
        return Assert.Single(errors);
    }

    [Fact]
    public void A_valid_request_passes_with_its_values()
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, Valid(), out var quest);

        Assert.Empty(errors);
        Assert.NotNull(quest);
        Assert.Equal((512, 512, 42L), (quest.Width, quest.Height, quest.Parameters.Seed));
        Assert.Equal(ModelCatalog.LocalSketch, quest.Model.Id);
    }

    [Theory]
    [InlineData("a cat\u0000 on a mat", 6)]
    [InlineData("\u001b[31mred", 1)]
    [InlineData("bell\u0007", 5)]
    public void A_prompt_with_a_control_character_is_refused_naming_where(string prompt, int position)
    {
        var error = SingleError(Valid() with { Prompt = prompt });
        Assert.Equal(("prompt", ErrorCodes.ControlCharacters), (error.Field, error.Code));
        Assert.Contains($"position {position}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_breaks_and_tabs_in_a_prompt_are_text()
    {
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, Valid() with { Prompt = "a kite\n\tover a hill\r\n" }, out _));
    }

    [Fact]
    public void Missing_size_and_seed_take_the_model_defaults_and_a_random_seed()
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, Valid() with { Width = null, Height = null, Seed = null }, out var quest, () => 7);

        Assert.Empty(errors);
        Assert.Equal((512, 512, 7L), (quest!.Width, quest.Height, quest.Parameters.Seed));
    }

    [Theory]
    [InlineData(null, ErrorCodes.Required)]
    [InlineData("", ErrorCodes.PromptEmpty)]
    [InlineData("   \t\n", ErrorCodes.PromptEmpty)]
    public void An_empty_prompt_is_refused(string? prompt, string code)
    {
        var error = SingleError(Valid() with { Prompt = prompt });
        Assert.Equal(("prompt", code), (error.Field, error.Code));
    }

    [Fact]
    public void A_prompt_over_the_model_limit_is_refused_and_the_limit_is_named()
    {
        var error = SingleError(Valid() with { Prompt = new string('a', 4001) });

        Assert.Equal(("prompt", ErrorCodes.PromptTooLong), (error.Field, error.Code));
        Assert.Contains("4000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prompt_at_the_limit_passes() =>
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, Valid() with { Prompt = new string('a', 4000) }, out _));

    [Fact]
    public void An_unknown_model_is_refused_and_the_known_ones_are_listed()
    {
        var error = SingleError(Valid() with { Model = "dall-e-9" });

        Assert.Equal(("model", ErrorCodes.UnknownModel), (error.Field, error.Code));
        Assert.Contains(ModelCatalog.LocalSketch, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(56, 512, "width", ErrorCodes.SizeOutOfRange)]
    [InlineData(2056, 512, "width", ErrorCodes.SizeOutOfRange)]
    [InlineData(512, 0, "height", ErrorCodes.SizeOutOfRange)]
    [InlineData(512, -8, "height", ErrorCodes.SizeOutOfRange)]
    [InlineData(513, 512, "width", ErrorCodes.SizeNotMultiple)]
    [InlineData(512, 100, "height", ErrorCodes.SizeNotMultiple)]
    public void Sizes_outside_the_range_or_off_the_grid_are_refused(int width, int height, string field, string code)
    {
        var error = SingleError(Valid() with { Width = width, Height = height });
        Assert.Equal((field, code), (error.Field, error.Code));
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(2048, 2048)]
    [InlineData(64, 2048)]
    public void Sizes_at_the_edges_pass(int width, int height) =>
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, Valid() with { Width = width, Height = height }, out _));

    [Theory]
    [InlineData(-1L)]
    [InlineData(4294967296L)]
    public void Seeds_outside_32_bits_are_refused(long seed)
    {
        var error = SingleError(Valid() with { Seed = seed });
        Assert.Equal(("seed", ErrorCodes.SeedOutOfRange), (error.Field, error.Code));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = " ", Model = ModelCatalog.LocalSketch, Width = 7, Height = 9 }, out _);
        Assert.Equal(["prompt", "width", "height"], errors.Select(e => e.Field));
    }
}
