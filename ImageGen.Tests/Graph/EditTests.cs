using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Quests;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Editing, as a user meets it: send an image (and a mask) in, name them in a quest, get the changed picture back
/// where the mask is transparent and the original where it is not; edit a gallery image; the quest remembers what it
/// was made from. The same flow through gpt-image (multipart edits) and FLUX Kontext (input_image) at the simulator.
/// Nobody edits another user's image, and a bad mask is refused before anything is charged.
/// </summary>
public sealed class EditTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly SKColor Source = new(20, 120, 200);

    [Fact]
    public async Task A_masked_local_edit_repaints_only_the_transparent_part_at_the_inputs_size()
    {
        using var user = await graph.CreateUserAsync(Token);
        var image = await UploadAsync(user, Solid(320, 240, Source));
        var mask = await UploadAsync(user, HalfTransparentMask(320, 240));

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a storm over the sea", model = "local-sketch", images = new[] { image }, mask }, Token);

        Assert.Equal([image], quest.Parameters.Images);
        Assert.Equal(mask, quest.Parameters.Mask);
        using var result = await DownloadAsync(quest);
        Assert.Equal((320, 240), (result.Width, result.Height));
        // The right half was opaque in the mask: kept. The left half was transparent: painted.
        Assert.Equal(Source, result.GetPixel(300, 120));
        Assert.Equal(Source, result.GetPixel(170, 20));
        Assert.NotEqual(Source, result.GetPixel(20, 120));
    }

    [Fact]
    public async Task A_gallery_image_can_be_edited_and_the_edit_remembers_it()
    {
        using var user = await graph.CreateUserAsync(Token);
        var original = await graph.CreateAndWaitAsync(user, new { prompt = "a quiet harbour", model = "local-sketch", width = 128, height = 128 }, Token);
        var edited = await graph.CreateAndWaitAsync(user, new { prompt = "the same harbour at night", model = "local-sketch", images = new[] { original.Images[0].Id } }, Token);

        Assert.Equal([original.Images[0].Id], edited.Parameters.Images);
        Assert.Equal((128, 128), (edited.Width, edited.Height));
        var gallery = await user.Client.GetFromJsonAsync<Core.Storage.ImagePage>("/api/images", GraphFixture.Json, Token);
        Assert.Equal(2, gallery!.Items.Count);
    }

    [Fact]
    public async Task Editing_through_gpt_image_sends_the_image_and_mask_as_openai_multipart()
    {
        using var user = await graph.CreateUserAsync(Token);
        var image = await UploadAsync(user, Solid(256, 256, Source));
        var mask = await UploadAsync(user, HalfTransparentMask(256, 256));
        var before = await StatAsync("openai.edits");

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a red door", model = "gpt-image-1.5", quality = "low", images = new[] { image }, mask }, Token);

        Assert.Equal(before + 1, await StatAsync("openai.edits"));
        using var result = await DownloadAsync(quest);
        // The simulator repaints the source's transparent half at the asked size, as OpenAI does.
        Assert.Equal((1024, 1024), (result.Width, result.Height));
        Assert.Equal(Source, result.GetPixel(900, 512));
    }

    [Fact]
    public async Task Editing_through_flux_kontext_sends_the_input_image()
    {
        using var user = await graph.CreateUserAsync(Token);
        var image = await UploadAsync(user, Solid(512, 256, Source));

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "make it winter", model = "flux-kontext-pro", images = new[] { image } }, Token);

        using var result = await DownloadAsync(quest);
        // No ratio asked: Kontext keeps the input's shape (2:1 is nearest 21:9 or 16:9, wider than tall).
        Assert.True(result.Width > result.Height, $"{result.Width}x{result.Height}");
        Assert.Equal([image], quest.Parameters.Images);
    }

    [Fact]
    public async Task Flux_fill_repaints_what_the_mask_marks_and_keeps_the_rest_and_needs_an_image()
    {
        using var user = await graph.CreateUserAsync(Token);
        var image = await UploadAsync(user, Solid(320, 240, Source));
        var mask = await UploadAsync(user, HalfTransparentMask(320, 240));

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a storm over the sea", model = "flux-pro-1.0-fill", images = new[] { image }, mask, outputFormat = "png" }, Token);

        using (var result = await DownloadAsync(quest))
        {
            // BFL received the mask white where ours was transparent: the left half is repainted, the right half kept.
            Assert.Equal((320, 240), (result.Width, result.Height));
            Assert.Equal(Source, result.GetPixel(300, 120));
            Assert.NotEqual(Source, result.GetPixel(20, 120));
        }

        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);
        var sent = debug!.Timeline.First(s => s.Kind == QuestStepKinds.ProviderCall).Sent!;
        Assert.Equal("flux-pro-1.0-fill", (string?)sent["endpoint"]);
        Assert.StartsWith("image/png, 320x240,", (string?)sent["image"], StringComparison.Ordinal);
        Assert.StartsWith("black and white PNG, 320x240", (string?)sent["mask"], StringComparison.Ordinal);

        await RefusedAsync(user, new { prompt = "x", model = "flux-pro-1.0-fill" }, ErrorCodes.Required, "images");
    }

    [Fact]
    public async Task A_flux_2_quest_draws_from_two_reference_images_at_the_asked_size_and_is_charged_what_bfl_bills()
    {
        using var user = await graph.CreateUserAsync(Token);
        var first = await UploadAsync(user, Solid(512, 512, Source));
        var second = await UploadAsync(user, Solid(640, 480, SKColors.Teal));

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "the two of them at a picnic", model = "flux-2-pro", width = 1024, height = 768, images = new[] { first, second } }, Token);

        // Both inputs are what the quest was made from (the gallery shows them); the output is the size asked.
        Assert.Equal([first, second], quest.Parameters.Images);
        var image = Assert.Single(quest.Images);
        Assert.Equal((1024, 768), (image.Width, image.Height));
        // Held: 3 + 1.5 x (no further megapixel of output, 0.79, + 2 references at their most, 4 each): 15. BFL bills
        // 3 + 1.5 x (1 started megapixel of references, 0.26 + 0.31): 4.5, charged as 5; the rest came back.
        Assert.Equal(15, quest.Cost);
        var credits = await user.Client.GetFromJsonAsync<Core.Accounts.CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(95, credits!.Balance);

        // The debug view names each reference BFL received, never its bytes.
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);
        var sent = debug!.Timeline.First(s => s.Kind == QuestStepKinds.ProviderCall).Sent!;
        Assert.Equal(("flux-2-pro", 1024, 768), ((string?)sent["endpoint"], (int?)sent["width"], (int?)sent["height"]));
        Assert.StartsWith("image/png, 512x512,", (string?)sent["input_image"], StringComparison.Ordinal);
        Assert.StartsWith("image/png, 640x480,", (string?)sent["input_image_2"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flux_2_refuses_too_many_references_another_users_image_and_sizes_off_its_grid_and_charges_nothing()
    {
        using var owner = await graph.CreateUserAsync(Token);
        var theirs = await UploadAsync(owner, Solid(64, 64, Source));
        using var user = await graph.CreateUserAsync(Token);
        var mine = await UploadAsync(user, Solid(64, 64, Source));

        await RefusedAsync(user, new { prompt = "x", model = "flux-2-klein-4b", images = Enumerable.Repeat(mine, 5).ToArray() }, ErrorCodes.ValueOutOfRange, "images");
        await RefusedAsync(user, new { prompt = "x", model = "flux-2-pro", images = Enumerable.Repeat(mine, 9).ToArray() }, ErrorCodes.ValueOutOfRange, "images");
        await RefusedAsync(user, new { prompt = "x", model = "flux-2-pro", images = new[] { mine, theirs } }, ErrorCodes.InputNotFound, "images");
        await RefusedAsync(user, new { prompt = "x", model = "flux-2-pro", width = 1000, height = 1024 }, ErrorCodes.SizeNotMultiple, "width");
        await RefusedAsync(user, new { prompt = "x", model = "flux-2-pro", width = 2064, height = 1024 }, ErrorCodes.SizeOutOfRange, "width");
        await RefusedAsync(user, new { prompt = "x", model = "flux-2-max", safetyTolerance = 6 }, ErrorCodes.ValueOutOfRange, "safetyTolerance");
        await RefusedAsync(user, new { prompt = "x", model = "flux-2-pro", images = new[] { mine }, mask = mine }, ErrorCodes.UnsupportedParameter, "mask");
        Assert.Equal(100, (await user.Client.GetFromJsonAsync<Core.Accounts.CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
    }

    [Fact]
    public async Task Another_users_image_a_bad_mask_or_a_model_that_cannot_edit_is_refused_and_nothing_is_charged()
    {
        using var owner = await graph.CreateUserAsync(Token);
        var theirs = await UploadAsync(owner, Solid(64, 64, Source));
        using var user = await graph.CreateUserAsync(Token);
        var mine = await UploadAsync(user, Solid(64, 64, Source));
        var smallMask = await UploadAsync(user, HalfTransparentMask(32, 32));
        var jpegMask = await UploadAsync(user, Jpeg(64, 64), "image/jpeg", "mask.jpg");
        var balance = (await user.Client.GetFromJsonAsync<Core.Accounts.CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance;

        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { theirs } }, ErrorCodes.InputNotFound, "images");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { Guid.NewGuid() } }, ErrorCodes.InputNotFound, "images");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { mine }, mask = smallMask }, ErrorCodes.MaskSizeMismatch, "mask");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { mine }, mask = jpegMask }, ErrorCodes.MaskNotPng, "mask");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { mine }, mask = theirs }, ErrorCodes.InputNotFound, "mask");
        await RefusedAsync(user, new { prompt = "x", model = "flux-pro-1.1", images = new[] { mine } }, ErrorCodes.UnsupportedParameter, "images");
        await RefusedAsync(user, new { prompt = "x", model = "flux-kontext-pro", images = new[] { mine }, mask = smallMask }, ErrorCodes.UnsupportedParameter, "mask");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { mine, mine } }, ErrorCodes.ValueOutOfRange, "images");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", images = new[] { mine }, width = 512 }, ErrorCodes.UnsupportedParameter, "width");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", mask = smallMask }, ErrorCodes.Required, "images");

        Assert.Equal(balance, (await user.Client.GetFromJsonAsync<Core.Accounts.CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
    }

    private static async Task RefusedAsync(TestUser user, object request, string code, string field)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/quests", request, Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, field);
    }

    private async Task<int> StatAsync(string name) =>
        (await graph.Simulator.GetFromJsonAsync<Dictionary<string, int>>("/admin/stats", Token))!.GetValueOrDefault(name);

    private async Task<SKBitmap> DownloadAsync(QuestDto quest)
    {
        Assert.Equal(QuestStatus.Succeeded, quest.Status);
        var bytes = await graph.Gateway.GetByteArrayAsync(quest.Images[0].Url, Token);
        return SKBitmap.Decode(bytes);
    }

    internal static async Task<Guid> UploadAsync(TestUser user, byte[] bytes, string type = "image/png", string name = "image.png")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        using var form = new MultipartFormDataContent { { file, "file", name } };
        using var response = await user.Client.PostAsync("/api/uploads", form, Token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Core.Storage.UploadDto>(GraphFixture.Json, Token))!.Id;
    }

    internal static byte[] Solid(int width, int height, SKColor color)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color);
        return bitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    /// <summary>Left half transparent (repaint), right half opaque (keep).</summary>
    internal static byte[] HalfTransparentMask(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        bitmap.Erase(SKColors.White);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var clear = new SKPaint { BlendMode = SKBlendMode.Clear };
            canvas.DrawRect(0, 0, width / 2f, height, clear);
        }

        return bitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    private static byte[] Jpeg(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.White);
        return bitmap.Encode(SKEncodedImageFormat.Jpeg, 90).ToArray();
    }
}
