using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>Sending an image in, through the gateway: kept for its owner only; anything else refused with a stable code.</summary>
public sealed class UploadTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_image_sent_in_is_kept_cleaned_for_its_owner_and_nobody_else()
    {
        using var owner = await graph.CreateUserAsync(Token);
        using var stranger = await graph.CreateUserAsync(Token);

        using var sent = await owner.Client.PostAsync("/api/uploads", Form(Jpeg(320, 200), "holiday.jpg", "image/jpeg"), Token);
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
        var upload = await graph.ReadAsync<Core.Storage.UploadDto>(sent, Token);
        Assert.Equal(("image/jpeg", 320, 200), (upload.ContentType, upload.Width, upload.Height));

        using var mine = await owner.Client.GetAsync($"/api/uploads/{upload.Id}", Token);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        using var decoded = SKBitmap.Decode(await mine.Content.ReadAsByteArrayAsync(Token));
        Assert.Equal((320, 200), (decoded.Width, decoded.Height));

        using var theirs = await stranger.Client.GetAsync($"/api/uploads/{upload.Id}", Token);
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        using var anonymous = await graph.Gateway.PostAsync("/api/uploads", Form(Jpeg(8, 8), "a.jpg", "image/jpeg"), Token);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_script_named_png_a_huge_file_and_a_form_without_the_file_are_refused_by_code()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var script = await user.Client.PostAsync("/api/uploads", Form("<svg onload=alert(1)>"u8.ToArray(), "cat.png", "image/png"), Token);
        Assert.Equal("unsupported_image_type", await CodeAsync(script, HttpStatusCode.BadRequest));

        using var huge = await user.Client.PostAsync("/api/uploads", Form(new byte[26 * 1024 * 1024], "huge.png", "image/png"), Token);
        Assert.Equal("upload_too_large", await CodeAsync(huge, HttpStatusCode.RequestEntityTooLarge));

        using var empty = new MultipartFormDataContent { { new StringContent("hello"), "note" } };
        using var noFile = await user.Client.PostAsync("/api/uploads", empty, Token);
        Assert.Equal("required", await CodeAsync(noFile, HttpStatusCode.BadRequest));

        // A multipart body whose boundary never closes.
        using var broken = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n\u0089PNG"u8.ToArray());
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        using var malformed = await user.Client.PostAsync("/api/uploads", broken, Token);
        Assert.Equal("malformed_form", await CodeAsync(malformed, HttpStatusCode.BadRequest));

        using var json = await user.Client.PostAsJsonAsync("/api/uploads", new { file = "AAAA" }, Token);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
    }

    [Fact]
    public async Task Uploads_are_listed_deleted_and_bounded_by_the_accounts_storage_quota()
    {
        using var owner = await graph.CreateUserAsync(Token);
        using var stranger = await graph.CreateUserAsync(Token);
        var noise = Noise(1200, 1200);

        // Upload until the quota refuses: what was refused is not stored, and what is stored stays within the quota.
        var kept = new List<Core.Storage.UploadDto>();
        for (var i = 0; i < 20; i++)
        {
            using var sent = await owner.Client.PostAsync("/api/uploads", Form(noise, $"noise-{i}.jpg", "image/jpeg"), Token);
            if (sent.StatusCode == HttpStatusCode.Conflict)
            {
                await ProblemAssert.IsProblemAsync(sent, HttpStatusCode.Conflict, "storage_quota_exceeded", "file");
                break;
            }

            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
            kept.Add(await graph.ReadAsync<Core.Storage.UploadDto>(sent, Token));
        }

        Assert.InRange(kept.Count, 1, 19);
        var page = (await owner.Client.GetFromJsonAsync<Core.Storage.UploadPage>("/api/uploads", GraphFixture.Json, Token))!;
        Assert.Equal(kept.Select(k => k.Id).Reverse(), page.Uploads.Select(u => u.Id));
        Assert.Equal((kept.Sum(k => k.Bytes), GraphFixture.UploadQuotaBytes), (page.StoredBytes, page.QuotaBytes));
        Assert.True(page.StoredBytes + kept[0].Bytes > page.QuotaBytes, "the refusal came only once the next upload would not fit");
        Assert.All(page.Uploads, u => Assert.Equal(u.CreatedAt.AddHours(24), u.ExpiresAt));

        // Newest first, page by page.
        var first = (await owner.Client.GetFromJsonAsync<Core.Storage.UploadPage>("/api/uploads?limit=1", GraphFixture.Json, Token))!;
        var second = (await owner.Client.GetFromJsonAsync<Core.Storage.UploadPage>($"/api/uploads?limit=1&before={first.Next}", GraphFixture.Json, Token))!;
        Assert.Equal(kept[^1].Id, Assert.Single(first.Uploads).Id);
        if (kept.Count > 1)
        {
            Assert.Equal(kept[^2].Id, Assert.Single(second.Uploads).Id);
        }

        // Another user's id answers as a missing one; the owner's delete makes room again.
        using (var theirs = await stranger.Client.DeleteAsync($"/api/uploads/{kept[0].Id}", Token))
        {
            await ProblemAssert.IsProblemAsync(theirs, HttpStatusCode.NotFound, "upload_not_found");
        }

        using (var deleted = await owner.Client.DeleteAsync($"/api/uploads/{kept[0].Id}", Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await owner.Client.GetAsync($"/api/uploads/{kept[0].Id}", Token)).StatusCode);
        using var again = await owner.Client.PostAsync("/api/uploads", Form(noise, "again.jpg", "image/jpeg"), Token);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        using var badLimit = await owner.Client.GetAsync("/api/uploads?limit=0", Token);
        await ProblemAssert.IsProblemAsync(badLimit, HttpStatusCode.BadRequest, "invalid_paging", "limit");
    }

    /// <summary>A JPEG of random pixels: large for its size, as photos are.</summary>
    private static byte[] Noise(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        var random = new Random(7);
        var pixels = new byte[width * height * 4];
        random.NextBytes(pixels);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    private static MultipartFormDataContent Form(byte[] bytes, string name, string type)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        return new MultipartFormDataContent { { file, "file", name } };
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        using var problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(Token), cancellationToken: Token);
        Assert.Equal("file", problem.RootElement.GetProperty("field").GetString());
        return problem.RootElement.GetProperty("code").GetString();
    }

    private static byte[] Jpeg(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SeaGreen);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }
}
