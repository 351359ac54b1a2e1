using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>Image links: signed and expiring, refreshable by the owner, resized on request and cached, deletable.</summary>
public sealed class ImageTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<(TestUser User, QuestImageDto Image)> MakeImageAsync(int size = 512)
    {
        var user = await graph.CreateUserAsync(Token);
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a lighthouse at dusk", model = "local-sketch", width = size, height = size }, Token);
        return (user, Assert.Single(quest.Images));
    }

    /// <summary>A request without credentials, as an &lt;img&gt; tag makes it.</summary>
    private Task<HttpResponseMessage> FetchAsync(string url, string? accept = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(ifNoneMatch));
        }

        return graph.Gateway.SendAsync(request, Token);
    }

    private static SKCodec Decode(byte[] bytes) => SKCodec.Create(new MemoryStream(bytes)) ?? throw new InvalidDataException("not an image");

    [Fact]
    public async Task A_signed_url_opens_the_image_and_tampered_expired_or_borrowed_signatures_are_refused()
    {
        var (user, image) = await MakeImageAsync();
        using var stranger = await graph.CreateUserAsync(Token);
        Assert.StartsWith("data:image/webp;base64,", image.Placeholder);
        Assert.InRange(image.Placeholder!.Length, 50, 2000);
        Assert.Equal([64, 256], image.Variants.Select(v => v.Width));

        using (var original = await FetchAsync(image.Url))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
            Assert.Equal("image/png", original.Content.Headers.ContentType?.MediaType);
            using var codec = Decode(await original.Content.ReadAsByteArrayAsync(Token));
            Assert.Equal(512, codec.Info.Width);
            Assert.Contains("immutable", original.Headers.CacheControl?.ToString());
        }

        var sig = image.Url[(image.Url.IndexOf("sig=", StringComparison.Ordinal) + 4)..];
        var tampered = image.Url.Replace("sig=" + sig, "sig=" + (sig[0] == 'A' ? 'B' : 'A') + sig[1..], StringComparison.Ordinal);
        using (var refused = await FetchAsync(tampered))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Forbidden, ErrorCodes.InvalidSignature);
        }

        // A signature for the 64 px variant opens no other size.
        var small = image.Variants[0].Url;
        using (var borrowed = await FetchAsync(small.Replace("w=64", "w=256", StringComparison.Ordinal)))
        {
            await ProblemAssert.IsProblemAsync(borrowed, HttpStatusCode.Forbidden, ErrorCodes.InvalidSignature);
        }

        // A one-second link expires; the owner gets a fresh one without generating again; nobody else can.
        using var shortLived = await user.Client.PostAsJsonAsync($"/api/images/{image.Id}/signed-url", new { expiresIn = 1 }, Token);
        var brief = await graph.ReadAsync<SignedUrlResponse>(shortLived, Token);
        await Task.Delay(TimeSpan.FromSeconds(2.2), Token);
        using (var expired = await FetchAsync(brief.Url))
        {
            await ProblemAssert.IsProblemAsync(expired, HttpStatusCode.Forbidden, ErrorCodes.UrlExpired);
            Assert.Equal("no-store", expired.Headers.CacheControl?.ToString());
        }

        using var refresh = await user.Client.PostAsJsonAsync($"/api/images/{image.Id}/signed-url", new { expiresIn = 600, w = 256, fmt = "webp" }, Token);
        var fresh = await graph.ReadAsync<SignedUrlResponse>(refresh, Token);
        Assert.InRange(fresh.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(590), DateTimeOffset.UtcNow.AddSeconds(610));
        using (var works = await FetchAsync(fresh.Url))
        {
            Assert.Equal(HttpStatusCode.OK, works.StatusCode);
            Assert.Equal("image/webp", works.Content.Headers.ContentType?.MediaType);
        }

        using var notYours = await stranger.Client.PostAsJsonAsync($"/api/images/{image.Id}/signed-url", new { expiresIn = 600 }, Token);
        await ProblemAssert.IsProblemAsync(notYours, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        using var notYourInfo = await stranger.Client.GetAsync($"/api/images/{image.Id}", Token);
        await ProblemAssert.IsProblemAsync(notYourInfo, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        using var unsignedStranger = await stranger.Client.GetAsync($"/images/{image.Id:N}", Token);
        await ProblemAssert.IsProblemAsync(unsignedStranger, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        using var unsignedOwner = await user.Client.GetAsync($"/images/{image.Id:N}?w=64&fmt=jpeg", Token);
        Assert.Equal("image/jpeg", unsignedOwner.Content.Headers.ContentType?.MediaType);

        user.Dispose();
    }

    [Theory]
    [InlineData("{\"expiresIn\":0}", ErrorCodes.ExpiresInOutOfRange, "expiresIn")]
    [InlineData("{\"expiresIn\":86401}", ErrorCodes.ExpiresInOutOfRange, "expiresIn")]
    [InlineData("{\"w\":300}", ErrorCodes.InvalidWidth, "w")]
    [InlineData("{\"q\":20}", ErrorCodes.InvalidQuality, "q")]
    [InlineData("{\"fmt\":\"gif\"}", ErrorCodes.InvalidFormat, "fmt")]
    [InlineData("{\"expiresIn\":\"soon\"}", ErrorCodes.InvalidType, "expiresIn")]
    [InlineData("{\"forever\":true}", ErrorCodes.UnknownParameter, "forever")]
    public async Task Absurd_signed_url_requests_are_refused_naming_the_field(string body, string code, string field)
    {
        var (user, image) = await MakeImageAsync(64);
        using (user)
        {
            using var response = await user.Client.PostAsync($"/api/images/{image.Id}/signed-url", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Token);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, field);
        }
    }

    [Fact]
    public async Task Variants_have_the_asked_width_and_format_are_rendered_once_and_revalidate_with_304()
    {
        var (user, image) = await MakeImageAsync();
        using (user)
        {
            var url = image.Variants.Single(v => v.Width == 256).Url;
            string etag;
            using (var first = await FetchAsync(url, accept: "image/avif,image/webp,*/*"))
            {
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
                Assert.Equal("image/webp", first.Content.Headers.ContentType?.MediaType);
                Assert.Equal("miss", first.Headers.GetValues("X-Cache").Single());
                Assert.Contains("Accept", first.Headers.Vary);
                using var codec = Decode(await first.Content.ReadAsByteArrayAsync(Token));
                Assert.Equal((SKEncodedImageFormat.Webp, 256, 256), (codec.EncodedFormat, codec.Info.Width, codec.Info.Height));
                etag = first.Headers.ETag!.ToString();
            }

            using (var second = await FetchAsync(url, accept: "image/webp"))
            {
                Assert.Equal("hit", second.Headers.GetValues("X-Cache").Single());
                Assert.Equal(etag, second.Headers.ETag!.ToString());
            }

            using (var revalidated = await FetchAsync(url, accept: "image/webp", ifNoneMatch: etag))
            {
                Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
                Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync(Token));
            }

            // A browser without webp gets jpeg from the same link.
            using (var jpeg = await FetchAsync(url, accept: "image/png,image/*"))
            {
                Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType?.MediaType);
                using var codec = Decode(await jpeg.Content.ReadAsByteArrayAsync(Token));
                Assert.Equal((SKEncodedImageFormat.Jpeg, 256), (codec.EncodedFormat, codec.Info.Width));
                Assert.NotEqual(etag, jpeg.Headers.ETag!.ToString());
            }

            // Widths outside the set cannot be asked for, signed or not.
            using var odd = await FetchAsync(url.Replace("w=256", "w=257", StringComparison.Ordinal));
            await ProblemAssert.IsProblemAsync(odd, HttpStatusCode.BadRequest, ErrorCodes.InvalidWidth, "w");
            using var unknown = await FetchAsync($"/images/{Guid.NewGuid():N}?exp=1&sig=x");
            await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.Forbidden, ErrorCodes.InvalidSignature);
            using var traversal = await user.Client.GetAsync("/images/..%2F..%2Fetc%2Fpasswd", Token);
            await ProblemAssert.IsProblemAsync(traversal, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        }
    }

    [Fact]
    public async Task Deleting_an_image_removes_its_files_and_every_link_to_it_says_so_but_the_ledger_stays()
    {
        var (user, image) = await MakeImageAsync();
        using (user)
        {
            var variant = image.Variants[0].Url;
            using (var warm = await FetchAsync(variant, accept: "image/webp"))
            {
                Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
            }

            var shard = Path.Combine(await graph.ImageStorePathAsync(), ImageKeys.ShardOf(image.Id));
            Assert.Equal(2, Directory.GetFiles(shard, image.Id.ToString("N") + ".*").Length);

            using var delete = await user.Client.DeleteAsync($"/api/images/{image.Id}", Token);
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            Assert.Empty(Directory.GetFiles(shard, image.Id.ToString("N") + ".*"));

            using (var gone = await FetchAsync(image.Url))
            {
                await ProblemAssert.IsProblemAsync(gone, HttpStatusCode.Gone, ErrorCodes.ImageDeleted);
            }

            using (var goneVariant = await FetchAsync(variant, accept: "image/webp"))
            {
                await ProblemAssert.IsProblemAsync(goneVariant, HttpStatusCode.Gone, ErrorCodes.ImageDeleted);
            }

            using var refresh = await user.Client.PostAsJsonAsync($"/api/images/{image.Id}/signed-url", new { expiresIn = 60 }, Token);
            await ProblemAssert.IsProblemAsync(refresh, HttpStatusCode.Gone, ErrorCodes.ImageDeleted);
            using var again = await user.Client.DeleteAsync($"/api/images/{image.Id}", Token);
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);

            var gallery = await user.Client.GetFromJsonAsync<ImagePage>("/api/images", GraphFixture.Json, Token);
            Assert.Empty(gallery!.Items);
            var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
            Assert.Empty(Assert.Single(quests!.Items).Images);
            var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
            Assert.Single(credits!.Entries, e => e.Kind == CreditEntryKind.Capture);
        }
    }

    [Fact]
    public async Task The_gallery_lists_only_the_owners_images_newest_first_in_pages()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var stranger = await graph.CreateUserAsync(Token);
        var made = new List<QuestDto>();
        for (var i = 0; i < 3; i++)
        {
            made.Add(await graph.CreateAndWaitAsync(user, new { prompt = $"gallery {i}", model = "local-sketch", width = 64, height = 64, seed = 7 + i }, Token));
        }

        await graph.CreateAndWaitAsync(stranger, new { prompt = "not yours", model = "local-sketch", width = 64, height = 64 }, Token);

        var first = await user.Client.GetFromJsonAsync<ImagePage>("/api/images?limit=2", GraphFixture.Json, Token);
        var second = await user.Client.GetFromJsonAsync<ImagePage>($"/api/images?limit=2&cursor={first!.NextCursor}", GraphFixture.Json, Token);
        Assert.Null(second!.NextCursor);
        var listed = first.Items.Concat(second.Items).ToList();
        Assert.Equal(["gallery 2", "gallery 1", "gallery 0"], listed.Select(i => i.Prompt));
        Assert.Equal(made.AsEnumerable().Reverse().Select(q => q.Seed), listed.Select(i => i.Seed));
        Assert.All(listed, i => Assert.StartsWith("data:image/webp;base64,", i.Placeholder));
        Assert.All(listed, i => Assert.Equal("local-sketch", i.Model));

        using var badCursor = await user.Client.GetAsync("/api/images?cursor=nonsense", Token);
        await ProblemAssert.IsProblemAsync(badCursor, HttpStatusCode.BadRequest, ErrorCodes.InvalidPaging, "cursor");
    }
}
