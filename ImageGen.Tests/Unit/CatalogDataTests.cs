using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>The catalog as data: the embedded file, an operator's override, and what is refused at start.</summary>
public sealed class CatalogDataTests
{
    private static ModelCatalog With(string json) => ModelCatalog.Load(("test override", json));

    private static CatalogException Refused(string json) => Assert.Throws<CatalogException>(() => With(json));

    [Fact]
    public void The_embedded_catalog_loads_with_its_version_and_every_price_kind()
    {
        var catalog = ModelCatalog.Default;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", catalog.Version);
        Assert.Equal(
            [CostKind.PerMegapixel, CostKind.OpenAITokens, CostKind.BflMegapixels, CostKind.PerImage, CostKind.MidjourneyJobs],
            catalog.All.Select(m => m.Cost.Kind).Distinct());
        Assert.Same(catalog, ModelCatalog.FromSettings(_ => null));
    }

    [Fact]
    public void An_override_adds_a_model_from_a_base_and_changes_a_price_without_touching_the_rest()
    {
        var catalog = With("""
            { "models": [
                { "id": "sketch-deluxe", "base": "local-sketch", "displayName": "Sketch deluxe", "cost": { "kind": "perMegapixel", "credits": 5 } },
                { "id": "flux-dev", "cost": { "kind": "perImage", "credits": 7 } } ] }
            """);

        Assert.True(catalog.TryGet("sketch-deluxe", out var added));
        Assert.Equal((ModelProvider.Local, "Sketch deluxe", 2048), (added.Provider, added.DisplayName, added.Dimensions!.Max));
        Assert.True(catalog.TryGet("flux-dev", out var changed));
        Assert.Equal(("FLUX [dev]", 7), (changed.DisplayName, changed.Cost.Credits));
        Assert.EndsWith("+override", catalog.Version, StringComparison.Ordinal);

        // The quest validator prices with the catalog it is given.
        QuestValidator.Validate(catalog, new CreateQuestRequest { Prompt = "a dune", Model = "flux-dev" }, out var quest);
        Assert.Equal(7, quest!.Cost);
        QuestValidator.Validate(catalog, new CreateQuestRequest { Prompt = "a dune", Model = "sketch-deluxe", Width = 1024, Height = 1024 }, out var deluxe);
        Assert.Equal(5, deluxe!.Cost);
        Assert.Equal(ModelCatalog.Default.All.Count + 1, catalog.All.Count);
    }

    [Fact]
    public void An_override_retires_a_model_which_is_then_refused_naming_its_successor()
    {
        var catalog = With("""{ "retired": [ { "id": "flux-dev", "displayName": "FLUX [dev]", "provider": "BlackForestLabs", "retiredOn": "2026-12-01", "successor": "flux-pro-1.1" } ] }""");

        Assert.False(catalog.TryGet("flux-dev", out _));
        var error = Assert.Single(QuestValidator.Validate(catalog, new CreateQuestRequest { Prompt = "a dune", Model = "flux-dev" }, out _));
        Assert.Equal(("model", ErrorCodes.ModelRetired), (error.Field, error.Code));
        Assert.Contains("'flux-pro-1.1'", error.Message, StringComparison.Ordinal);
        Assert.Equal("blackforestlabs", catalog.ProviderTag("flux-dev"));
    }

    [Theory]
    [InlineData("""{ "models": [ { "id": "flux-dev", "cost": { "kind": "perImage", "credits": -3 } } ] }""", "model 'flux-dev': cost.credits: a price cannot be negative")]
    [InlineData("""{ "models": [ { "id": "gpt-image-2", "cost": { "kind": "openAITokens", "textInput": 5, "imageInput": 10, "output": -1 } } ] }""", "model 'gpt-image-2': cost.output: a price cannot be negative")]
    [InlineData("""{ "models": [ { "id": "flux-dev", "colourSpace": "srgb" } ] }""", "model 'flux-dev': colourSpace:")]
    [InlineData("""{ "models": [ { "id": "flux-dev", "cost": { "kind": "perImage", "credits": 3, "discount": 1 } } ] }""", "model 'flux-dev': cost.discount:")]
    [InlineData("""{ "models": [ { "id": "new-one", "base": "no-such-model" } ] }""", "model 'new-one': base:")]
    [InlineData("""{ "models": [ { "id": "new-one", "displayName": "New" } ] }""", "model 'new-one': ")]
    [InlineData("""{ "models": [ { "id": "flux-dev", "outputFormats": ["gif"] } ] }""", "model 'flux-dev': outputFormats: 'gif'")]
    [InlineData("""{ "models": [ { "id": "flux-dev", "imageCount": { "min": 1, "max": 50, "default": 1 } } ] }""", "model 'flux-dev': imageCount:")]
    [InlineData("""{ "models": [ { "id": "gpt-image-2", "sizes": ["1000x1000", "auto"] } ] }""", "model 'gpt-image-2': sizes: '1000x1000'")]
    [InlineData("""{ "models": [ { "id": "flux-dev", "cost": { "kind": "openAITokens", "textInput": 1, "imageInput": 1, "output": 1 } } ] }""", "model 'flux-dev': cost.kind")]
    [InlineData("""{ "retired": [ { "id": "flux-dev", "displayName": "FLUX [dev]", "provider": "BlackForestLabs", "retiredOn": "2026-12-01", "successor": "flux-9" } ] }""", "retired model 'flux-dev': successor:")]
    [InlineData("""{ "modles": [] }""", "'modles' is not a catalog section")]
    [InlineData("""{ "models": [ { "displayName": "no id" } ] }""", "models[0]: id:")]
    [InlineData("""{ "models": [ { "id": "Bad Id!" } ] }""", "'Bad Id!': id:")]
    [InlineData("""not json""", "test override: not JSON")]
    public void A_bad_override_is_refused_at_load_naming_the_entry_and_the_field(string json, string expected)
    {
        var refused = Refused(json);
        Assert.Contains(refused.Problems, p => p.Contains(expected, StringComparison.Ordinal));
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_override_file_is_refused_by_name()
    {
        var refused = Assert.Throws<CatalogException>(() => ModelCatalog.FromSettings(key => key == "Catalog:OverrideFile" ? "/nowhere/catalog.json" : null));
        Assert.Contains("/nowhere/catalog.json", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_override_file_comes_before_the_inline_override()
    {
        var file = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "models": [ { "id": "flux-dev", "cost": { "kind": "perImage", "credits": 9 } } ] }""");
        try
        {
            var catalog = ModelCatalog.FromSettings(key => key switch
            {
                "Catalog:OverrideFile" => file,
                "Catalog:Override" => """{ "models": [ { "id": "flux-dev", "displayName": "FLUX dev (ours)" } ] }""",
                _ => null,
            });
            Assert.True(catalog.TryGet("flux-dev", out var model));
            Assert.Equal(("FLUX dev (ours)", 9), (model.DisplayName, model.Cost.Credits));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
