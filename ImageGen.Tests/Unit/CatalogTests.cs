using System.Text.Json;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Worker.Providers;

namespace ImageGen.Tests.Unit;

public sealed class CatalogTests
{
    private static (IReadOnlyList<FieldError> Errors, ValidQuest? Quest) Check(CreateQuestRequest request)
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, request, out var quest, () => 1);
        return (errors, quest);
    }

    private static CreateQuestRequest For(string model) => new() { Prompt = "a quiet harbour at dawn", Model = model };

    [Fact]
    public void The_catalog_lists_every_promised_model_and_midjourney_through_its_proxy()
    {
        Assert.Equal(
            ["local-sketch", "gpt-image-2", "gpt-image-2.6-flare", "gpt-image-2.6-sunburst", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst",
             "gpt-image-1.5", "gpt-image-1-mini", "flux-2-pro", "flux-2-max", "flux-2-flex", "flux-2-klein-9b", "flux-2-klein-4b", "flux-pro-1.0-fill", "flux-pro-1.1", "flux-pro-1.1-ultra", "flux-dev", "flux-kontext-pro", "flux-kontext-max", "midjourney"],
            ModelCatalog.Default.All.Select(m => m.Id));
        Assert.All(ModelCatalog.Default.All, m => Assert.True(m.Available));
        Assert.True(ModelCatalog.Default.TryGet("midjourney", out var midjourney));
        Assert.Equal(ModelProvider.Midjourney, midjourney.Provider);
        Assert.Equal([.. MidjourneyActions.OnGrid, .. MidjourneyActions.OnUpscale, .. MidjourneyActions.OnAnyImage], midjourney.Actions);
    }

    [Fact]
    public void A_midjourney_follow_up_takes_the_grids_prompt_and_costs_by_its_kind()
    {
        var upscale = Check(new CreateQuestRequest { Model = "midjourney", Images = [Guid.NewGuid()], Action = "u2" });
        var variation = Check(new CreateQuestRequest { Model = "midjourney", Images = [Guid.NewGuid()], Action = "V1" });
        var grid = Check(For("midjourney") with { AspectRatio = "16:9" });

        Assert.Equal(("U2", 2), (upscale.Quest!.Parameters.Action, upscale.Quest.Cost));
        Assert.Equal(8, variation.Quest!.Cost);
        Assert.Equal((8, "16:9"), (grid.Quest!.Cost, grid.Quest.Parameters.AspectRatio));
        Assert.Equal(("prompt", ErrorCodes.Required), (Check(new CreateQuestRequest { Model = "midjourney" }).Errors[0].Field, ErrorCodes.Required));
        // The version defaults to the newest; one Midjourney does not offer is refused by name, as is a version on another model.
        Assert.Equal("7", grid.Quest.Parameters.Version);
        Assert.Equal(("version", ErrorCodes.InvalidValue), (Check(For("midjourney") with { Version = "5" }).Errors[0].Field, Check(For("midjourney") with { Version = "5" }).Errors[0].Code));
        Assert.Equal(ErrorCodes.UnsupportedParameter, Check(For("local-sketch") with { Version = "7" }).Errors[0].Code);
    }

    [Theory]
    [InlineData("gpt-image-1.5", "seed", """{"seed": 5}""")]
    [InlineData("gpt-image-1.5", "safetyTolerance", """{"safetyTolerance": 3}""")]
    [InlineData("gpt-image-1.5", "aspectRatio", """{"aspectRatio": "1:1"}""")]
    [InlineData("flux-pro-1.1", "quality", """{"quality": "high"}""")]
    [InlineData("flux-pro-1.1", "size", """{"size": "1024x1024"}""")]
    [InlineData("flux-pro-1.1", "raw", """{"raw": true}""")]
    [InlineData("flux-pro-1.1-ultra", "width", """{"width": 1024}""")]
    [InlineData("local-sketch", "quality", """{"quality": "low"}""")]
    [InlineData("local-sketch", "promptUpsampling", """{"promptUpsampling": true}""")]
    public void A_parameter_the_model_does_not_take_is_refused_by_name(string model, string field, string extra)
    {
        var request = JsonSerializer.Deserialize<CreateQuestRequest>(extra, new JsonSerializerOptions(JsonSerializerDefaults.Web))! with { Prompt = "p", Model = model };

        var error = Assert.Single(Check(request).Errors);

        Assert.Equal((field, ErrorCodes.UnsupportedParameter), (error.Field, error.Code));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gpt_image_defaults_to_a_square_of_auto_quality_and_maps_quality_aliases()
    {
        var quest = Check(For("gpt-image-1.5")).Quest!;
        Assert.Equal(("1024x1024", "auto", 1024, 1024), (quest.Size, quest.Quality, quest.Width, quest.Height));

        Assert.Equal("medium", Check(For("gpt-image-1.5") with { Quality = "standard" }).Quest!.Quality);
        Assert.Equal("high", Check(For("gpt-image-1.5") with { Quality = "hd" }).Quest!.Quality);
    }

    // One image is streamed with one partial image (its preview frame), which OpenAI bills as 100 more output tokens:
    // high 1536x1024 is 6208 + 100 tokens, 25.23 cents, 26 credits. Three images are not streamed: 3 x 4160 tokens,
    // 49.92 cents with the prompt's few tokens, rounded up once for the request: 50.
    [Theory]
    [InlineData("gpt-image-1.5", "low", "1024x1024", 1, 2)]
    [InlineData("gpt-image-1.5", "medium", "1024x1024", 1, 5)]
    [InlineData("gpt-image-1.5", "high", "1536x1024", 1, 26)]
    [InlineData("gpt-image-1.5", "high", "1024x1024", 3, 50)]
    [InlineData("gpt-image-1.5", "auto", "auto", 1, 26)]
    public void Gpt_image_costs_follow_the_token_table(string model, string quality, string size, int n, int credits) =>
        Assert.Equal(credits, Check(For(model) with { Quality = quality, Size = size, N = n }).Quest!.Cost);

    // 6208 output tokens (24.83 cents) and the input image at its most, 1097 image tokens (1.10 cents): 26 credits.
    [Fact]
    public void An_edit_is_not_streamed_so_it_carries_no_preview_tokens_but_pays_for_its_input_image() =>
        Assert.Equal(26, Check(For("gpt-image-1.5") with { Quality = "high", Size = "1536x1024", Images = [Guid.NewGuid()] }).Quest!.Cost);

    [Theory]
    [InlineData("gpt-image-1", "2026-10-23", "gpt-image-2.5-flare")]
    [InlineData("dall-e-3", "2026-05-12", "gpt-image-2")]
    [InlineData("dall-e-2", "2026-05-12", "gpt-image-1-mini")]
    public void A_retired_model_is_refused_by_name_with_its_replacement(string model, string shutDown, string successor)
    {
        var error = Assert.Single(Check(For("gpt-image-1.5") with { Model = model }).Errors);
        Assert.Equal(("model", ErrorCodes.ModelRetired), (error.Field, error.Code));
        Assert.Contains(shutDown, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{successor}'", error.Message, StringComparison.Ordinal);
        Assert.True(ModelCatalog.Default.TryGet(successor, out _));
        // Its old quests are still named by provider in telemetry.
        Assert.Equal("openai", ModelCatalog.Default.ProviderTag(model));
    }

    [Fact]
    public void Gpt_image_takes_width_and_height_only_as_one_of_its_sizes()
    {
        Assert.Equal("1536x1024", Check(For("gpt-image-1.5") with { Width = 1536, Height = 1024 }).Quest!.Size);

        var error = Assert.Single(Check(For("gpt-image-1.5") with { Width = 1000, Height = 1000 }).Errors);
        Assert.Equal(ErrorCodes.SizeNotSupported, error.Code);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(11, ErrorCodes.ValueOutOfRange)]
    public void Gpt_image_makes_one_to_ten_images(int n, string? code)
    {
        var errors = Check(For("gpt-image-1.5") with { N = n == 0 ? 10 : n }).Errors;
        Assert.Equal(code, errors.SingleOrDefault()?.Code);
    }

    [Fact]
    public void Flux_pro_takes_multiples_of_32_from_256_to_1440_and_tolerance_0_to_6()
    {
        var quest = Check(For("flux-pro-1.1")).Quest!;
        Assert.Equal((1024, 768, 2, "jpeg", 4), (quest.Width!.Value, quest.Height!.Value, quest.Parameters.SafetyTolerance!.Value, quest.Parameters.OutputFormat!, quest.Cost));

        Assert.Equal(ErrorCodes.SizeNotMultiple, Assert.Single(Check(For("flux-pro-1.1") with { Width = 1000 }).Errors).Code);
        Assert.Equal(ErrorCodes.SizeOutOfRange, Assert.Single(Check(For("flux-pro-1.1") with { Height = 1472 }).Errors).Code);
        Assert.Equal(ErrorCodes.ValueOutOfRange, Assert.Single(Check(For("flux-pro-1.1") with { SafetyTolerance = 7 }).Errors).Code);
        Assert.Equal(ErrorCodes.InvalidValue, Assert.Single(Check(For("flux-pro-1.1") with { OutputFormat = "webp" }).Errors).Code);
    }

    [Fact]
    public void Flux_ultra_takes_aspect_ratios_and_raw()
    {
        var quest = Check(For("flux-pro-1.1-ultra") with { AspectRatio = "21:9", Raw = true }).Quest!;
        Assert.Equal(("21:9", true, 6), (quest.Parameters.AspectRatio, quest.Parameters.Raw, quest.Cost));
        Assert.Null(quest.Width);

        Assert.Equal(ErrorCodes.InvalidValue, Assert.Single(Check(For("flux-pro-1.1-ultra") with { AspectRatio = "2:1" }).Errors).Code);
    }

    [Fact]
    public void Mapping_to_bfl_uses_bfl_names_and_leaves_out_what_was_not_chosen()
    {
        var quest = Check(For("flux-pro-1.1") with { Seed = 9, SafetyTolerance = 4, OutputFormat = "png", PromptUpsampling = true }).Quest!;
        var body = BflImageProvider.Map(new ProviderRequest { QuestId = Guid.NewGuid(), Prompt = quest.Prompt, Model = quest.Model, Parameters = quest.Parameters });

        Assert.Equal(
            """{"prompt":"a quiet harbour at dawn","width":1024,"height":768,"seed":9,"safety_tolerance":4,"output_format":"png","prompt_upsampling":true}""",
            body.ToJsonString());
    }

    [Fact]
    public void Mapping_ultra_to_bfl_sends_the_aspect_ratio_instead_of_a_size()
    {
        var quest = Check(For("flux-pro-1.1-ultra") with { AspectRatio = "9:16", Raw = true }).Quest!;
        var body = BflImageProvider.Map(new ProviderRequest { QuestId = Guid.NewGuid(), Prompt = quest.Prompt, Model = quest.Model, Parameters = quest.Parameters });

        Assert.Equal("9:16", (string?)body["aspect_ratio"]);
        Assert.True((bool?)body["raw"]);
        Assert.False(body.ContainsKey("width"));
    }

    [Fact]
    public void Fallbacks_hold_the_dearest_candidate_and_each_must_take_the_quests_parameters()
    {
        var quest = Check(For("gpt-image-1-mini") with { Fallbacks = ["flux-2-klein-4b", "flux-2-max"] }).Quest!;
        // gpt-image-1-mini's worst case is 4; FLUX.2 [max] at 1024 x 1024 is 7 + 3 for the second megapixel.
        Assert.Equal((4, 10), (quest.OwnCost, quest.Cost));
        Assert.Equal(["flux-2-klein-4b", "flux-2-max"], quest.Parameters.Fallbacks!.Select(f => f.Model));
        Assert.Equal(1024, quest.Parameters.Fallbacks![0].Parameters.Width);

        foreach (var (request, message) in new[]
        {
            (For("gpt-image-1-mini") with { Fallbacks = ["no-such-model"] }, "no-such-model"),
            (For("gpt-image-1-mini") with { Quality = "low", Fallbacks = ["flux-2-pro"] }, "quality"),
            (For("gpt-image-1-mini") with { Fallbacks = ["gpt-image-1-mini"] }, "twice"),
            (For("gpt-image-1-mini") with { Fallbacks = ["gpt-image-1", "flux-2-pro"] }, "shut down"),
            (For("gpt-image-1-mini") with { Fallbacks = ["flux-2-pro", "flux-2-max", "flux-2-flex", "flux-2-klein-4b"] }, "at most 3"),
            (For("local-sketch") with { Images = [Guid.NewGuid()], Fallbacks = ["gpt-image-1.5"] }, "edit"),
        })
        {
            var error = Assert.Single(Check(request).Errors);
            Assert.Equal("fallbacks", error.Field);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }
    }
}
