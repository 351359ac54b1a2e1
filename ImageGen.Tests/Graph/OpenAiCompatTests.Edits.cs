using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using Microsoft.EntityFrameworkCore;
using OpenAI.Images;

namespace ImageGen.Tests.Graph;

/// <summary>/v1/images/edits: multipart image and mask from the SDK, refusals by field, a retried edit charged once.</summary>
public sealed partial class OpenAiCompatTests
{
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

    [Fact]
    public async Task An_edit_that_will_be_refused_is_refused_before_any_file_is_decoded_and_a_refused_edit_keeps_nothing()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));
        var png = Png(64, 64, SkiaSharp.SKColors.Teal, transparentLeftHalf: false);
        async Task<(int Status, string? Param)> EditAsync(string model, string prompt, params byte[][] images)
        {
            using var form = new MultipartFormDataContent { { new StringContent(model), "model" }, { new StringContent(prompt), "prompt" } };
            for (var i = 0; i < images.Length; i++)
            {
                form.Add(new ByteArrayContent(images[i]), "image[]", $"{i}.png");
            }

            using var response = await http.PostAsync("/v1/images/edits", form, Token);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
            return ((int)response.StatusCode, body.RootElement.GetProperty("error").GetProperty("param").GetString());
        }

        // The model and the prompt are judged before the files; so is a second image a model does not take.
        Assert.Equal((400, "model"), await EditAsync("no-such-model", "x", png));
        Assert.Equal((400, "prompt"), await EditAsync("local-sketch", "", png));
        // A good first file and a bad second one: refused, and the good one is not kept either.
        Assert.Equal((400, "image"), await EditAsync("local-sketch", "x", png, "not an image"u8.ToArray()));

        // With no credits left the edit is refused before its files are read.
        using (var emptied = await graph.Admin.Client.PostAsJsonAsync($"/api/admin/users/{user.Id}/credits",
            new { kind = "adjust", amount = -100, reason = "test: an empty balance" }, Token))
        {
            Assert.Equal(HttpStatusCode.OK, emptied.StatusCode);
        }

        Assert.Equal(429, (await EditAsync("local-sketch", "x", png)).Status);

        await using var db = await graph.ConnectDatabaseAsync();
        Assert.Equal(0, await db.Uploads.CountAsync(u => u.UserId == user.Id, Token));
        Assert.Empty((await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items);
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
}
