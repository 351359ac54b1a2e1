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
public sealed class OpenAiCompatTests(GraphFixture graph)
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
    public async Task The_sdk_edits_an_image_with_a_mask_and_the_quest_remembers_its_inputs()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "local-sketch");
        using var image = new MemoryStream(Png(160, 96, SkiaSharp.SKColors.SteelBlue, transparentLeftHalf: false));
        using var mask = new MemoryStream(Png(160, 96, SkiaSharp.SKColors.White, transparentLeftHalf: true));

        var edited = (await client.GenerateImageEditAsync(image, "photo.png", "a storm rolling in", mask, "mask.png", new ImageEditOptions(), Token)).Value;

        Assert.Equal((160, 96), PngSize(edited.ImageBytes.ToArray()));
        var quest = Assert.Single((await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items);
        Assert.Equal(QuestStatus.Succeeded, quest.Status);
        Assert.Single(quest.Parameters.Images!);
        Assert.NotNull(quest.Parameters.Mask);
    }

    [Fact]
    public async Task An_edit_with_too_many_images_a_file_that_is_no_image_or_an_unknown_field_is_refused_by_name()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));
        var png = Png(32, 32, SkiaSharp.SKColors.Red, transparentLeftHalf: false);

        async Task<(int Status, OpenAiError Error)> EditAsync(Action<MultipartFormDataContent> fill)
        {
            using var form = new MultipartFormDataContent { { new StringContent("local-sketch"), "model" }, { new StringContent("x"), "prompt" } };
            fill(form);
            using var response = await http.PostAsync("/v1/images/edits", form, Token);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
            var error = body.RootElement.GetProperty("error");
            return ((int)response.StatusCode, new OpenAiError(error.GetProperty("type").GetString()!, error.GetProperty("param").GetString(), error.GetProperty("code").GetString()));
        }

        var many = await EditAsync(form => { for (var i = 0; i < 17; i++) { form.Add(new ByteArrayContent(png), "image[]", $"{i}.png"); } });
        Assert.Equal((400, "image", "value_out_of_range"), (many.Status, many.Error.Param, many.Error.Code));
        var script = await EditAsync(form => form.Add(new ByteArrayContent("<script>alert(1)</script>"u8.ToArray()), "image", "cat.png"));
        Assert.Equal((400, "image", "unsupported_image_type"), (script.Status, script.Error.Param, script.Error.Code));
        var unknown = await EditAsync(form => { form.Add(new ByteArrayContent(png), "image", "a.png"); form.Add(new StringContent("1"), "strength"); });
        Assert.Equal((400, "strength", "unknown_parameter"), (unknown.Status, unknown.Error.Param, unknown.Error.Code));
        var none = await EditAsync(_ => { });
        Assert.Equal((400, "image", "required"), (none.Status, none.Error.Param, none.Error.Code));

        // Nothing was started, nothing charged.
        Assert.Empty((await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items);
    }

    [Fact]
    public async Task An_edit_sent_again_by_a_retrying_client_joins_the_first_quest_and_is_charged_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));
        var png = Png(64, 64, SkiaSharp.SKColors.Teal, transparentLeftHalf: false);

        async Task<string> EditAsync()
        {
            using var form = new MultipartFormDataContent { { new StringContent("local-sketch"), "model" }, { new StringContent("retried edit"), "prompt" } };
            form.Add(new ByteArrayContent(png), "image", "a.png");
            using var response = await http.PostAsync("/v1/images/edits", form, Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues("X-ImageGen-Quest-Id").Single();
        }

        // The same files and fields again (new uploads each time): one quest, one charge.
        Assert.Equal(await EditAsync(), await EditAsync());
        var quest = Assert.Single((await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items);
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100 - quest.Cost, credits!.Balance);
    }

    private sealed record OpenAiError(string Type, string? Param, string? Code);

    private static byte[] Png(int width, int height, SkiaSharp.SKColor color, bool transparentLeftHalf)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul);
        bitmap.Erase(color);
        if (transparentLeftHalf)
        {
            using var canvas = new SkiaSharp.SKCanvas(bitmap);
            using var clear = new SkiaSharp.SKPaint { BlendMode = SkiaSharp.SKBlendMode.Clear };
            canvas.DrawRect(0, 0, width / 2f, height, clear);
        }

        return bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray();
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
    public async Task A_streamed_generation_sends_partial_images_as_they_paint_then_the_image()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "local-sketch");

        // The typed streaming calls are experimental in the SDK; its own pipeline (with its key handling) reads the stream.
        using var message = client.Pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(client.Endpoint + "/images/generations");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromObjectAsJson(
            new { model = "local-sketch", prompt = "a lighthouse, streamed", size = "512x512", stream = true, partial_images = 2 }));
        message.BufferResponse = false;
        await client.Pipeline.SendAsync(message);

        Assert.Equal(200, message.Response!.Status);
        Assert.StartsWith("text/event-stream", message.Response.Headers.TryGetValue("Content-Type", out var type) ? type : "", StringComparison.Ordinal);
        var events = await ReadEventsAsync(message.Response.ContentStream!);
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], events.Select(e => e.Name));
        Assert.Equal([0, 1], events.Take(2).Select(e => e.Data.GetProperty("partial_image_index").GetInt32()));
        foreach (var partial in events.Take(2))
        {
            var frame = Convert.FromBase64String(partial.Data.GetProperty("b64_json").GetString()!);
            Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(frame, 8, 4));
        }

        var completed = events[^1].Data;
        Assert.Equal("image_generation.completed", completed.GetProperty("type").GetString());
        Assert.Equal((512, 512), PngSize(Convert.FromBase64String(completed.GetProperty("b64_json").GetString()!)));
    }

    [Fact]
    public async Task Streaming_asks_that_cannot_be_met_are_refused_before_anything_is_charged()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));

        using var tooMany = await http.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x", stream = true, partial_images = 4 }, Token);
        Assert.Equal(("partial_images", "invalid_value"), await ErrorAsync(tooMany, HttpStatusCode.BadRequest));
        using var withoutStream = await http.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x", partial_images = 1 }, Token);
        Assert.Equal(("partial_images", "invalid_value"), await ErrorAsync(withoutStream, HttpStatusCode.BadRequest));
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Empty(quests!.Items);
    }

    private sealed record ServerEvent(string Name, JsonElement Data);

    /// <summary>Server-sent events as a client reads them: "event:" and "data:" lines, a blank line ends each.</summary>
    private static async Task<List<ServerEvent>> ReadEventsAsync(Stream stream)
    {
        var events = new List<ServerEvent>();
        using var reader = new StreamReader(stream);
        string? name = null;
        var data = new System.Text.StringBuilder();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Token);
        bound.CancelAfter(GraphFixture.QuestTimeout);
        while (await reader.ReadLineAsync(bound.Token) is { } line)
        {
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                name = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line["data:".Length..].Trim());
            }
            else if (line.Length == 0 && data.Length > 0)
            {
                events.Add(new ServerEvent(name ?? "message", JsonDocument.Parse(data.ToString()).RootElement.Clone()));
                (name, data) = (null, data.Clear());
            }
        }

        return events;
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
            var client = Images(await KeyAsync(user), "gpt-image-1");

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
        var client = Images(await KeyAsync(user), "gpt-image-1", retries: 0);

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
        Assert.Contains(listed, m => m.Id == "gpt-image-1");
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
