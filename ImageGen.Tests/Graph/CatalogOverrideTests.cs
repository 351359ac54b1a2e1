using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ImageGen.Tests.Graph;

/// <summary>
/// An operator's catalog override, given as configuration alone (<see cref="ConstrainedGraphFixture.CatalogOverride"/>):
/// the added model and the changed price reach every surface that lists or prices models, with no rebuild.
/// </summary>
[Collection(ConstrainedCollection.Name)]
public sealed class CatalogOverrideTests(ConstrainedGraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_added_model_and_a_changed_price_show_in_the_api_v1_openapi_the_web_and_the_charge()
    {
        using var anonymous = new HttpClient { BaseAddress = graph.GatewayAddress };

        using var models = await JsonDocument.ParseAsync(await anonymous.GetStreamAsync("/api/models", Token), cancellationToken: Token);
        var byId = models.RootElement.EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal("Sketch poster", byId["sketch-poster"].GetProperty("displayName").GetString());
        Assert.Equal(5, byId["flux-dev"].GetProperty("cost").GetProperty("credits").GetInt32());
        Assert.Equal("5 credits per image.", byId["flux-dev"].GetProperty("cost").GetProperty("description").GetString());

        using var user = await graph.CreateUserAsync(Token);
        using var v1 = await JsonDocument.ParseAsync(await user.Client.GetStreamAsync("/v1/models", Token), cancellationToken: Token);
        Assert.Contains("sketch-poster", v1.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        using var openApi = await JsonDocument.ParseAsync(await anonymous.GetStreamAsync("/openapi/v1.json", Token), cancellationToken: Token);
        var schemas = openApi.RootElement.GetProperty("components").GetProperty("schemas");
        foreach (var schema in new[] { "CreateQuestRequest", "OpenAiImageRequest" })
        {
            var offered = schemas.GetProperty(schema).GetProperty("properties").GetProperty("model").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Contains("sketch-poster", offered);
            Assert.Contains("flux-dev", offered);
            Assert.DoesNotContain("gpt-image-1", offered);
        }

        // The web offers the same catalog: the public models page, and the composer's list (the same singleton).
        var page = WebUtility.HtmlDecode(await anonymous.GetStringAsync("/models", Token));
        Assert.Contains("data-model=\"sketch-poster\"", page, StringComparison.Ordinal);
        Assert.Contains("5 credits per image.", page, StringComparison.Ordinal);
        Assert.Contains("+override", page, StringComparison.Ordinal);

        // The API reserves the changed price, and takes the added model.
        using var flux = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a dune at noon", model = "flux-dev" }, Token);
        Assert.Equal(HttpStatusCode.Accepted, flux.StatusCode);
        Assert.Equal(5, (await flux.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("cost").GetInt32());
        using var poster = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a dune at dusk", model = "sketch-poster", width = 1024, height = 1024 }, Token);
        Assert.Equal(HttpStatusCode.Accepted, poster.StatusCode);
        Assert.Equal(3, (await poster.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("cost").GetInt32());
    }
}
