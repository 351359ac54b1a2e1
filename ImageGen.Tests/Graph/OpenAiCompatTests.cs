// gpt-image quality levels and sizes are marked experimental in OpenAI 2.15.0; they are what users of gpt-image send.
#pragma warning disable OPENAI001

using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using OpenAI;
using OpenAI.Images;
using OpenAI.Models;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The OpenAI-compatible surface, driven by the official OpenAI .NET SDK with only its endpoint and key changed:
/// what a team with existing OpenAI code sees. Every call is a quest (ledger, gallery), and errors come in OpenAI's
/// envelope with OpenAI's status codes.
/// </summary>
public sealed partial class OpenAiCompatTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sdk_generates_bytes_and_the_quest_lands_in_the_gallery_charged_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "local-sketch");

        var image = (await client.GenerateImageAsync("a lighthouse drawn by the sdk",
            new ImageGenerationOptions { Size = new GeneratedImageSize(256, 256) }, Token)).Value;

        var bytes = image.ImageBytes.ToArray();
        Assert.Equal((256, 256), PngSize(bytes));
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        var quest = Assert.Single(quests!.Items);
        Assert.Equal((QuestStatus.Succeeded, "a lighthouse drawn by the sdk"), (quest.Status, quest.Prompt));
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100 - quest.Cost, credits!.Balance);
    }

    [Fact]
    public async Task The_sdk_asks_for_a_url_that_then_loads_without_credentials()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "local-sketch");

        var image = (await client.GenerateImageAsync("a lighthouse by link",
            new ImageGenerationOptions { Size = new GeneratedImageSize(128, 128), ResponseFormat = GeneratedImageFormat.Uri }, Token)).Value;

        Assert.NotNull(image.ImageUri);
        Assert.Equal(graph.GatewayAddress.Authority, image.ImageUri.Authority);
        using var anonymous = new HttpClient();
        using var loaded = await anonymous.GetAsync(image.ImageUri, Token);
        Assert.Equal(HttpStatusCode.OK, loaded.StatusCode);
        Assert.Equal((128, 128), PngSize(await loaded.Content.ReadAsByteArrayAsync(Token)));
    }

    [Fact]
    public async Task A_parameter_the_model_cannot_honour_is_refused_by_name_and_nothing_is_charged()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "local-sketch");

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateImageAsync("a lighthouse",
            new ImageGenerationOptions { Quality = GeneratedImageQuality.HighQuality }, Token));

        Assert.Equal(400, refused.Status);
        var error = Envelope(refused);
        Assert.Equal(("invalid_request_error", "quality", "unsupported_parameter"), (error.Type, error.Param, error.Code));
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Empty(quests!.Items);
    }

    [Fact]
    public async Task A_moderated_prompt_answers_400_moderation_blocked_and_is_not_charged()
    {
        await SetFaultAsync("openai", "Moderation");
        try
        {
            using var user = await graph.CreateUserAsync(Token);
            var client = Images(await KeyAsync(user), "gpt-image-1.5");

            var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateImageAsync("something forbidden",
                new ImageGenerationOptions { Quality = GeneratedImageQuality.LowQuality, Size = GeneratedImageSize.W1024xH1024 }, Token));

            Assert.Equal(400, refused.Status);
            Assert.Equal("moderation_blocked", Envelope(refused).Code);
            var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
            Assert.Equal(100, credits!.Balance);
        }
        finally
        {
            await SetFaultAsync("openai", "Healthy");
        }
    }

    [Fact]
    public async Task Too_few_credits_answers_429_insufficient_quota()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "gpt-image-1.5", retries: 0);

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateImagesAsync("ten big ones", 10,
            new ImageGenerationOptions { Quality = GeneratedImageQuality.HighQuality, Size = GeneratedImageSize.W1536xH1024 }, Token));

        Assert.Equal(429, refused.Status);
        var error = Envelope(refused);
        Assert.Equal(("insufficient_quota", "insufficient_quota"), (error.Type, error.Code));
    }

    [Fact]
    public async Task The_same_body_again_within_the_window_returns_the_same_quest_and_charges_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));
        var body = new { model = "local-sketch", prompt = "retried by a timid client", size = "64x64" };

        using var first = await http.PostAsJsonAsync("/v1/images/generations", body, Token);
        using var again = await http.PostAsJsonAsync("/v1/images/generations", body, Token);
        using var keyed = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(body) };
        keyed.Headers.Add("Idempotency-Key", "my-own-key");
        using var asked = await http.SendAsync(keyed, Token);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, again.StatusCode, asked.StatusCode));
        Assert.Equal(QuestId(first), QuestId(again));
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(QuestId(first), QuestId(asked));
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Equal(2, quests!.Items.Count);
    }

    [Fact]
    public async Task Strangers_typos_broken_bodies_and_narrow_keys_get_openai_errors_never_a_500()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));

        using var typo = await http.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x", sizee = "64x64" }, Token);
        Assert.Equal(("sizee", "unknown_parameter"), await ErrorAsync(typo, HttpStatusCode.BadRequest));

        using var broken = await http.PostAsync("/v1/images/generations", new StringContent("{\"model\": ", System.Text.Encoding.UTF8, "application/json"), Token);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal("invalid_request_error", (await JsonDocument.ParseAsync(await broken.Content.ReadAsStreamAsync(Token), cancellationToken: Token)).RootElement.GetProperty("error").GetProperty("type").GetString());

        using var stranger = Raw("igk_not_a_real_key");
        using var refused = await stranger.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x" }, Token);
        Assert.Equal((null, "invalid_api_key"), await ErrorAsync(refused, HttpStatusCode.Unauthorized));

        using var narrow = Raw(await KeyAsync(user, "credits:read"));
        using var forbidden = await narrow.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x" }, Token);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        var models = new OpenAIModelClient(new ApiKeyCredential(await KeyAsync(user)), Options(3));
        var listed = (await models.GetModelsAsync(Token)).Value;
        Assert.Contains(listed, m => m.Id == "local-sketch" && m.OwnedBy == "imagegen");
        Assert.Contains(listed, m => m.Id == "gpt-image-1.5");
    }

    private ImageClient Images(string key, string model, int retries = 3) => new(model, new ApiKeyCredential(key), Options(retries));

    private OpenAIClientOptions Options(int retries) => new()
    {
        Endpoint = new Uri(graph.GatewayAddress, "/v1"),
        RetryPolicy = new ClientRetryPolicy(retries),
        NetworkTimeout = TimeSpan.FromSeconds(180),
    };

    private HttpClient Raw(string key)
    {
        var http = new HttpClient { BaseAddress = graph.GatewayAddress, Timeout = TimeSpan.FromSeconds(180) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private async Task<string> KeyAsync(TestUser user, params string[] scopes)
    {
        object body = scopes.Length == 0 ? new { name = "openai-sdk" } : new { name = "openai-sdk", scopes };
        using var created = await user.Client.PostAsJsonAsync("/api/keys", body, Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await graph.ReadAsync<CreatedApiKeyDto>(created, Token)).Key;
    }

    private async Task SetFaultAsync(string provider, string profile)
    {
        using var response = await graph.Simulator.PutAsJsonAsync($"/admin/faults/{provider}", new { profile, failureRate = 0.5, latencyMs = 3000, retryAfterSeconds = 1 }, Token);
        response.EnsureSuccessStatusCode();
    }

    private static string QuestId(HttpResponseMessage response) => response.Headers.GetValues("X-ImageGen-Quest-Id").Single();

    private sealed record Error(string? Message, string? Type, string? Param, string? Code);

    private static Error Envelope(ClientResultException e)
    {
        var error = JsonDocument.Parse(e.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        string? Text(string name) => error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new Error(Text("message"), Text("type"), Text("param"), Text("code"));
    }

    private static async Task<(string? Param, string? Code)> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var error = (await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(Token), cancellationToken: Token)).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        string? Text(string name) => error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return (Text("param"), Text("code"));
    }

    /// <summary>Width and height from a PNG's header.</summary>
    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 24 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "not a PNG");
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
