using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Worker.Providers;

namespace ImageGen.Tests.Unit;

/// <summary>FLUX.2: references drawn from at an asked size, each model's limits, megapixel pricing, BFL's field names.</summary>
public sealed class Flux2Tests
{
    private static (IReadOnlyList<FieldError> Errors, ValidQuest? Quest) Check(CreateQuestRequest request)
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, request, out var quest, () => 1);
        return (errors, quest);
    }

    private static CreateQuestRequest Pro(params Guid[] images) =>
        new() { Prompt = "a picnic", Model = "flux-2-pro", Images = images.Length == 0 ? null : images };

    [Fact]
    public void References_keep_the_asked_size_unlike_an_edit()
    {
        var (errors, quest) = Check(Pro(Guid.NewGuid(), Guid.NewGuid()) with { Width = 1536, Height = 1024 });
        Assert.Empty(errors);
        Assert.Equal((1536, 1024, 2), (quest!.Width, quest.Height, quest.Parameters.Images!.Count));

        // Kontext changes its input and keeps its size: width and height are still refused there.
        Assert.Equal(ErrorCodes.UnsupportedParameter, Assert.Single(Check(Pro(Guid.NewGuid()) with { Model = "flux-kontext-pro", Width = 1024 }).Errors).Code);
    }

    [Theory]
    [InlineData("flux-2-pro", 8, true)]
    [InlineData("flux-2-pro", 9, false)]
    [InlineData("flux-2-klein-4b", 4, true)]
    [InlineData("flux-2-klein-4b", 5, false)]
    public void Each_model_takes_its_own_count_of_references(string model, int count, bool taken)
    {
        var errors = Check(Pro([.. Enumerable.Range(0, count).Select(_ => Guid.NewGuid())]) with { Model = model }).Errors;
        Assert.Equal(taken, errors.Count == 0);
    }

    [Theory]
    [InlineData(2048, null)]
    [InlineData(2064, ErrorCodes.SizeOutOfRange)]
    [InlineData(240, ErrorCodes.SizeOutOfRange)]
    [InlineData(1000, ErrorCodes.SizeNotMultiple)]
    [InlineData(1008, null)]
    public void Sizes_are_256_to_2048_in_steps_of_16(int width, string? code) =>
        Assert.Equal(code, Check(Pro() with { Width = width, Height = 1024 }).Errors.SingleOrDefault()?.Code);

    [Fact]
    public void Max_is_stricter_about_safety_tolerance() =>
        Assert.Equal(("safetyTolerance", ErrorCodes.ValueOutOfRange),
            Check(Pro() with { Model = "flux-2-max", SafetyTolerance = 6 }).Errors.Single() is var e ? (e.Field, e.Code) : default);

    // 1024 x 1024 is 1.05 megapixels: two started, 3 + 1.5 = 4.5, held as 5. Each reference is held at its most, 4
    // megapixels: two of them add 12.
    [Theory]
    [InlineData(1024, 1024, 0, 5)]
    [InlineData(1024, 768, 0, 3)]
    [InlineData(1024, 768, 2, 15)]
    [InlineData(2048, 2048, 0, 9)]
    public void The_hold_is_the_first_megapixel_then_each_further_one_and_every_reference_at_its_most(int width, int height, int references, int credits) =>
        Assert.Equal(credits, Check(Pro([.. Enumerable.Range(0, references).Select(_ => Guid.NewGuid())]) with { Width = width, Height = height }).Quest!.Cost);

    [Fact]
    public void Bfl_receives_each_reference_in_its_numbered_field()
    {
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, Pro(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()) with { Width = 1024, Height = 1024 }, out var quest, () => 1));
        var request = new ProviderRequest
        {
            QuestId = Guid.NewGuid(),
            Prompt = quest!.Prompt,
            Model = quest.Model,
            Parameters = quest.Parameters,
            Inputs = [.. Enumerable.Range(1, 3).Select(i => new InputImage([(byte)i], "image/png", 64, 64))],
        };

        var body = BflImageProvider.Map(request);

        Assert.Equal(["AQ==", "Ag==", "Aw=="], new[] { "input_image", "input_image_2", "input_image_3" }.Select(f => (string?)body[f]));
        Assert.Equal((1024, 1024), ((int?)body["width"], (int?)body["height"]));
    }
}
