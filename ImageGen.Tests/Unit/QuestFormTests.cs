using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Web.Services;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The composer's form: it asks only for what the chosen model takes (so the API never refuses a field the person
/// could not see), costs what the API will reserve, and "generate again" fills it back exactly.
/// </summary>
public sealed class QuestFormTests
{
    [Fact]
    public void A_request_carries_only_the_fields_the_chosen_model_takes()
    {
        var form = new QuestForm(ModelCatalog.Default) { Prompt = "a lighthouse", ModelId = ModelCatalog.LocalSketch, Size = "768x512", Quality = "high", AspectRatio = "16:9", Seed = 7 };

        var request = form.ToRequest();

        Assert.Equal((768, 512, 7L), (request.Width, request.Height, request.Seed));
        Assert.Null(request.Size);
        Assert.Null(request.Quality);
        Assert.Null(request.AspectRatio);
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, request, out _));
    }

    [Fact]
    public void Choosing_another_model_starts_from_its_defaults_and_the_estimate_is_the_apis()
    {
        var form = new QuestForm(ModelCatalog.Default) { Prompt = "a lighthouse", Size = "768x512", N = 3 };
        form.ModelId = ModelCatalog.GptImage15;
        form.UseModelDefaults();

        var request = form.ToRequest();

        Assert.Equal(form.Model!.Sizes![0], request.Size);
        Assert.Equal(form.Model.Qualities![0], request.Quality);
        Assert.Equal(1, request.N);
        Assert.Contains(request.Size, form.SizeOptions);
        QuestValidator.Validate(ModelCatalog.Default, request, out var valid);
        Assert.Equal(valid!.Cost, form.Estimate);
    }

    [Fact]
    public void Generate_again_fills_the_form_so_it_asks_for_the_same_quest()
    {
        var earlier = new QuestDto
        {
            Id = Guid.CreateVersion7(),
            Prompt = "a storm over the harbour",
            Model = ModelCatalog.FluxPro11,
            Parameters = new QuestParameters { Width = 1024, Height = 768, Seed = 42, SafetyTolerance = 4, OutputFormat = "png", PromptUpsampling = true },
            Seed = 42,
            Cost = 4,
            Status = QuestStatus.Succeeded,
            Progress = 1,
            CreatedAt = DateTimeOffset.UtcNow,
            Images = [],
        };
        var form = new QuestForm(ModelCatalog.Default);

        Assert.True(form.FillFrom(earlier));
        var request = form.ToRequest();

        Assert.Equal((earlier.Prompt, earlier.Model), (request.Prompt, request.Model));
        Assert.Equal((1024, 768, 42L, 4), (request.Width, request.Height, request.Seed, request.SafetyTolerance));
        Assert.Equal(true, request.PromptUpsampling);
        Assert.False(new QuestForm(ModelCatalog.Default).FillFrom(earlier with { Model = "retired-model" }));
    }

    [Fact]
    public void On_gpt_image_2_the_form_asks_openais_options_a_free_size_and_compression_only_for_a_lossy_format()
    {
        var form = new QuestForm(ModelCatalog.Default) { Prompt = "a paper crane", ModelId = ModelCatalog.GptImage2 };
        form.UseModelDefaults();
        Assert.Equal(("auto", "auto"), (form.Background, form.Moderation));

        form.Size = "1600x896";
        form.Background = "transparent";
        form.Moderation = "low";
        form.OutputFormat = "webp";
        form.OutputCompression = 70;
        var request = form.ToRequest();
        Assert.Equal(("1600x896", "transparent", "low", 70), (request.Size, request.Background, request.Moderation, request.OutputCompression));
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, request, out _));

        // Compression is not sent with png, and a format without alpha for a transparent background is the API's refusal to show.
        form.OutputFormat = "png";
        Assert.Null(form.ToRequest().OutputCompression);
        form.OutputFormat = "jpeg";
        Assert.Null(form.Estimate);
        Assert.Equal("background", Assert.Single(QuestValidator.Validate(ModelCatalog.Default, form.ToRequest(), out _)).Field);

        // On a model without them, none of OpenAI's options is sent.
        form.ModelId = ModelCatalog.FluxPro11;
        form.UseModelDefaults();
        Assert.Equal((null, null, null), (form.ToRequest().Background, form.ToRequest().Moderation, form.ToRequest().OutputCompression));
    }
}
