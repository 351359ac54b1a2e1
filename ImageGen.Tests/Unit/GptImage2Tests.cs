using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>OpenAI's current models: free sizes and OpenAI's own options, with their abuse cases, before anything is charged.</summary>
public sealed class GptImage2Tests
{
    private static (IReadOnlyList<FieldError> Errors, ValidQuest? Quest) Check(CreateQuestRequest request)
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, request, out var quest);
        return (errors, quest);
    }

    private static CreateQuestRequest Two(string? size = null) => new() { Prompt = "a fox in the snow", Model = ModelCatalog.GptImage2, Size = size };

    [Theory]
    [InlineData("1024x1024")]
    [InlineData("3840x2160")]
    [InlineData("2160x3840")]
    [InlineData("1600x896")]
    [InlineData("816x816")]        // 665,856 pixels: just over the least
    [InlineData("2400x800")]       // exactly 3:1
    [InlineData("auto")]
    public void Sizes_within_every_rule_are_taken(string size)
    {
        var (errors, quest) = Check(Two(size));
        Assert.Empty(errors);
        Assert.Equal(size, quest!.Size);
    }

    [Theory]
    [InlineData("1000x1000", "multiples of 16")]
    [InlineData("3856x1296", "long edge")]
    [InlineData("2416x800", "1:3")]
    [InlineData("800x800", "area")]         // 640,000 pixels: just under the least
    [InlineData("3840x2176", "area")]       // 8,355,840 pixels: just over the most
    [InlineData("0x1024", "positive")]
    public void Sizes_just_outside_a_rule_are_refused_naming_it(string size, string rule)
    {
        var error = Assert.Single(Check(Two(size)).Errors);
        Assert.Equal(("size", ErrorCodes.SizeNotSupported), (error.Field, error.Code));
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1600x896")]
    [InlineData("-16x1024")]
    [InlineData("1024x")]
    [InlineData("big")]
    public void Gpt_image_1_5_keeps_its_three_sizes(string size)
    {
        var error = Assert.Single(Check(Two(size) with { Model = ModelCatalog.GptImage15 }).Errors);
        Assert.Equal("size", error.Field);
    }

    [Fact]
    public void A_transparent_background_needs_a_format_with_alpha()
    {
        var error = Assert.Single(Check(Two() with { Background = "transparent", OutputFormat = "jpeg" }).Errors);
        Assert.Equal(("background", ErrorCodes.TransparentNeedsAlpha), (error.Field, error.Code));

        Assert.Equal("transparent", Check(Two() with { Background = "transparent", OutputFormat = "webp" }).Quest!.Parameters.Background);
        Assert.Equal("auto", Check(Two()).Quest!.Parameters.Background);
    }

    [Theory]
    [InlineData("png", 50, ErrorCodes.InvalidValue)]
    [InlineData("jpeg", 101, ErrorCodes.ValueOutOfRange)]
    [InlineData("webp", -1, ErrorCodes.ValueOutOfRange)]
    public void Compression_is_0_to_100_and_only_for_lossy_formats(string format, int compression, string code)
    {
        var error = Assert.Single(Check(Two() with { OutputFormat = format, OutputCompression = compression }).Errors);
        Assert.Equal(("outputCompression", code), (error.Field, error.Code));
    }

    [Fact]
    public void Openai_options_on_a_model_without_them_are_refused_by_name()
    {
        foreach (var request in new[]
        {
            new CreateQuestRequest { Prompt = "p", Model = "flux-pro-1.1", Background = "opaque" },
            new CreateQuestRequest { Prompt = "p", Model = "flux-pro-1.1", Moderation = "low" },
            new CreateQuestRequest { Prompt = "p", Model = "flux-pro-1.1", OutputCompression = 50 },
            new CreateQuestRequest { Prompt = "p", Model = "local-sketch", PartialImages = 2 },
            Two() with { Images = [Guid.NewGuid()], InputFidelity = "high" },
        })
        {
            var error = Assert.Single(Check(request).Errors);
            Assert.Equal(ErrorCodes.UnsupportedParameter, error.Code);
        }
    }

    [Fact]
    public void Preview_frames_are_asked_as_given_and_only_where_the_image_is_streamed()
    {
        Assert.Equal(2, Check(Two() with { PartialImages = 2 }).Quest!.Parameters.PartialImages);
        Assert.Equal(1, Check(Two()).Quest!.Parameters.PartialImages);
        Assert.Equal(ErrorCodes.ValueOutOfRange, Assert.Single(Check(Two() with { PartialImages = 4 }).Errors).Code);
        Assert.Equal("partialImages", Assert.Single(Check(Two() with { PartialImages = 2, N = 2 }).Errors).Field);
        Assert.Null(Check(Two() with { N = 2 }).Quest!.Parameters.PartialImages);
    }

    // 2048 x 2048 at high quality: 4 x 4160 output tokens, and two preview frames at 100 each: 16,840 tokens at $40
    // per million, 67.36 cents with the prompt's tokens, 68 credits. Three previews cost one more.
    [Fact]
    public void Free_sizes_are_priced_by_area_and_the_preview_frames_as_asked()
    {
        Assert.Equal(68, Check(Two("2048x2048") with { Quality = "high", PartialImages = 2 }).Quest!.Cost);
        Assert.Equal(68, Check(Two("2048x2048") with { Quality = "high", PartialImages = 3 }).Quest!.Cost);
        Assert.Equal(67, Check(Two("2048x2048") with { Quality = "high", PartialImages = 0 }).Quest!.Cost);
        // "auto" may make the largest image the model makes: the estimate holds it.
        Assert.True(Check(Two("auto") with { Quality = "high" }).Quest!.Cost >= Check(Two("3840x2160") with { Quality = "high" }).Quest!.Cost);
    }

    [Fact]
    public void High_input_fidelity_holds_more_input_tokens_where_asked_or_where_the_model_applies_it()
    {
        var edit = new CreateQuestRequest { Prompt = "make it night", Model = ModelCatalog.GptImage15, Images = [Guid.NewGuid()], Quality = "low" };
        var low = Check(edit).Quest!;
        var high = Check(edit with { InputFidelity = "high" }).Quest!;
        Assert.Equal("low", low.Parameters.InputFidelity);
        Assert.True(high.Cost > low.Cost, $"{high.Cost} > {low.Cost}");
        Assert.True(Check(edit with { Model = ModelCatalog.GptImage2 }).Quest!.Cost >= high.Cost);
        Assert.Equal("inputFidelity", Assert.Single(Check(Two() with { Model = ModelCatalog.GptImage15, InputFidelity = "high" }).Errors).Field);
    }
}
