using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Midjourney flags typed into a prompt are read before anything is priced: the catalogued ones become parameters,
/// the ones that change the bill (or that nobody knows) are refused by name with the prompt as the field at fault.
/// </summary>
public sealed class MidjourneyPromptTests
{
    [Theory]
    [InlineData("a fox --repeat 40", "--repeat")]
    [InlineData("a fox --r 4", "--r")]
    [InlineData("a fox --turbo", "--turbo")]
    [InlineData("a fox --fast", "--fast")]
    [InlineData("a fox --relax", "--relax")]
    [InlineData("a fox --q 4", "--q")]
    [InlineData("a fox --quality 2", "--quality")]
    [InlineData("a fox --chaos 500", "--chaos 500")]
    [InlineData("a fox --ar 21:9", "--ar 21:9")]
    [InlineData("a fox --stylize 5000", "--stylize 5000")]
    [InlineData("a fox --v 2", "--v 2")]
    [InlineData("a fox --weird 1", "--weird")]
    [InlineData("a fox \u2014repeat 40", "--repeat")] // an em dash, as phones type it
    [InlineData("a fox --AR 1:1 --REPEAT 3", "--repeat")]
    public void A_flag_that_changes_the_bill_or_is_unknown_is_refused_by_name_before_anything_is_charged(string prompt, string named)
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = prompt, Model = "midjourney" }, out var quest);

        Assert.Null(quest);
        var error = Assert.Single(errors);
        Assert.Equal("prompt", error.Field);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalogued_flags_become_parameters_and_leave_the_text()
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = "a fox in snow --ar 16:9 --stylize 250 --v 6.1 --chaos 20", Model = "midjourney" }, out var quest);

        Assert.Empty(errors);
        Assert.Equal(("16:9", 250, "6.1"), (quest!.Parameters.AspectRatio, quest.Parameters.Stylize, quest.Parameters.Version));
        Assert.Equal("a fox in snow --chaos 20", quest.Prompt);
    }

    [Fact]
    public void The_same_parameter_as_a_field_and_as_a_different_flag_is_refused()
    {
        var errors = QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = "a fox --ar 1:1", Model = "midjourney", AspectRatio = "16:9" }, out _);
        Assert.Equal("aspectRatio", Assert.Single(errors).Field);
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = "a fox --ar 16:9", Model = "midjourney", AspectRatio = "16:9" }, out _));
    }

    [Theory]
    [InlineData("a well-known fox -- not a flag")]
    [InlineData("fox--tail")]
    public void Dashes_that_are_not_flags_are_text(string prompt)
    {
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = prompt, Model = "midjourney" }, out var quest));
        Assert.Equal(prompt, quest!.Prompt);
    }

    [Fact]
    public void Other_models_keep_their_prompt_as_written()
    {
        Assert.Empty(QuestValidator.Validate(ModelCatalog.Default, new CreateQuestRequest { Prompt = "a fox --repeat 40", Model = "local-sketch", Width = 64, Height = 64 }, out var quest));
        Assert.Equal("a fox --repeat 40", quest!.Prompt);
    }
}
