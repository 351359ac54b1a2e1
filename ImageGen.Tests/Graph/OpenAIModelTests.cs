using System.Net.Http.Json;
using ImageGen.Core.Quests;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>OpenAI's current models through the simulator, on the shared graph (no fault is set, so nothing runs alone).</summary>
public sealed class OpenAIModelTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Gpt_image_2_makes_a_free_size_with_a_transparent_background_and_the_preview_frames_asked()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var events = new EventRecorder(hub);

        var quest = await graph.CreateAndWaitAsync(user, new
        {
            prompt = "a paper crane sticker", model = "gpt-image-2", quality = "low", size = "1600x896", background = "transparent",
            moderation = "low", outputFormat = "webp", outputCompression = 70, partialImages = 2,
        }, Token);

        await events.Terminal(GraphFixture.QuestTimeout, Token);
        Assert.Equal(2, events.Events.Count(e => e.Preview is not null));
        var image = Assert.Single(quest.Images);
        Assert.Equal(("image/webp", 1600, 896), (image.ContentType, image.Width, image.Height));
        using (var bitmap = SKBitmap.Decode(await graph.Gateway.GetByteArrayAsync(image.Url, Token)))
        {
            Assert.Equal(0, bitmap.GetPixel(0, 0).Alpha);
            Assert.Equal(255, bitmap.GetPixel(800, 448).Alpha);
        }

        // What OpenAI received, in its own names, as the debug view shows it.
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);
        var sent = debug!.Timeline.Single(s => s.Kind == QuestStepKinds.ProviderCall).Sent!;
        Assert.Equal(("gpt-image-2", "1600x896", "transparent", "low", 70, 2),
            ((string?)sent["model"], (string?)sent["size"], (string?)sent["background"], (string?)sent["moderation"], (int?)sent["output_compression"], (int?)sent["partial_images"]));
    }

    [Theory]
    [InlineData("""{"model":"gpt-image-2","prompt":"a crane","background":"transparent","output_format":"jpeg"}""", "transparent_needs_alpha_format", "background")]
    [InlineData("""{"model":"gpt-image-2","prompt":"a crane","output_format":"webp","output_compression":101}""", ErrorCodes.ValueOutOfRange, "output_compression")]
    [InlineData("""{"model":"gpt-image-2","prompt":"a crane","size":"1000x1000"}""", ErrorCodes.SizeNotSupported, "size")]
    [InlineData("""{"model":"gpt-image-2","prompt":"a crane","stream":true,"partial_images":4}""", ErrorCodes.InvalidValue, "partial_images")]
    [InlineData("""{"model":"flux-2-pro","prompt":"a crane","background":"transparent"}""", ErrorCodes.UnsupportedParameter, "background")]
    public async Task Openai_options_that_cannot_hold_are_refused_on_v1_in_openais_words_and_charge_nothing(string body, string code, string param)
    {
        using var user = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "v1 options" }, Token);
        var key = (await graph.ReadAsync<Core.Accounts.CreatedApiKeyDto>(created, Token)).Key;
        using var client = new HttpClient { BaseAddress = graph.GatewayAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        using var response = await client.PostAsync("/v1/images/generations", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Token)).GetProperty("error");
        Assert.Equal((code, param), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Equal(100, (await user.Client.GetFromJsonAsync<Core.Accounts.CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
    }
}
