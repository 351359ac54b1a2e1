using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Image links with an object store: the bytes come from the store by its own signed links (which it checks), the API
/// only signs, makes variants once and redirects; deleting an image deletes its objects.
/// </summary>
[Collection(TwoHostCollection.Name)]
public sealed class ObjectStoreImageTests(TwoHostGraphFixture graph) : IDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A browser that shows each redirect instead of following it.</summary>
    private readonly HttpClient _browser = new(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<(TestUser User, QuestImageDto Image)> MakeImageAsync()
    {
        var user = await graph.CreateUserAsync(Token);
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a harbour in fog", model = "local-sketch", width = 512, height = 512 }, Token);
        return (user, Assert.Single(quest.Images));
    }

    private Task<HttpResponseMessage> FetchAsync(string url, string accept = "image/webp,*/*")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(graph.GatewayAddress, url));
        request.Headers.Accept.ParseAdd(accept);
        return _browser.SendAsync(request, Token);
    }

    private static SKCodec Decode(byte[] bytes) => SKCodec.Create(new MemoryStream(bytes)) ?? throw new InvalidDataException("not an image");

    [Fact]
    public async Task The_original_comes_from_the_store_which_refuses_an_altered_or_expired_link()
    {
        var (user, image) = await MakeImageAsync();
        using (user)
        {
            var link = new Uri(image.Url);
            Assert.NotEqual(graph.GatewayAddress.Authority, link.Authority);
            Assert.Contains("X-Amz-Signature=", image.Url);
            using (var original = await FetchAsync(image.Url))
            {
                Assert.Equal(HttpStatusCode.OK, original.StatusCode);
                Assert.Equal("image/png", original.Content.Headers.ContentType?.MediaType);
                using var codec = Decode(await original.Content.ReadAsByteArrayAsync(Token));
                Assert.Equal(512, codec.Info.Width);
            }

            var at = image.Url.IndexOf("X-Amz-Signature=", StringComparison.Ordinal) + "X-Amz-Signature=".Length;
            using (var altered = await FetchAsync(image.Url[..at] + (image.Url[at] == '0' ? '1' : '0') + image.Url[(at + 1)..]))
            {
                Assert.Equal(HttpStatusCode.Forbidden, altered.StatusCode);
            }

            // A one-second link from the refresh endpoint: the store itself refuses it once it has expired.
            using var refreshed = await user.Client.PostAsJsonAsync($"/api/images/{image.Id}/signed-url", new { expiresIn = 1 }, Token);
            var brief = await graph.ReadAsync<SignedUrlResponse>(refreshed, Token);
            Assert.StartsWith(link.GetLeftPart(UriPartial.Authority), brief.Url);
            await Task.Delay(TimeSpan.FromSeconds(2.5), Token);
            using var expired = await FetchAsync(brief.Url);
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        }
    }

    [Fact]
    public async Task A_variant_is_made_once_then_every_request_is_sent_to_the_store()
    {
        var (user, image) = await MakeImageAsync();
        using (user)
        {
            var url = image.Variants.Single(v => v.Width == 256).Url;
            Assert.StartsWith("/images/", url);
            Uri location;
            using (var first = await FetchAsync(url))
            {
                Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
                Assert.Equal("miss", first.Headers.GetValues("X-Cache").Single());
                Assert.Contains("Accept", first.Headers.Vary);
                location = first.Headers.Location!;
            }

            using (var second = await FetchAsync(url))
            {
                Assert.Equal("hit", second.Headers.GetValues("X-Cache").Single());
                Assert.Equal(location, second.Headers.Location);
            }

            using (var bytes = await _browser.GetAsync(location, Token))
            {
                Assert.Equal(HttpStatusCode.OK, bytes.StatusCode);
                Assert.Equal("image/webp", bytes.Content.Headers.ContentType?.MediaType);
                using var codec = Decode(await bytes.Content.ReadAsByteArrayAsync(Token));
                Assert.Equal((SKEncodedImageFormat.Webp, 256), (codec.EncodedFormat, codec.Info.Width));
            }

            // Our own link is still checked first: altered, it never reaches the store.
            using var tampered = await FetchAsync(url.Replace("w=256", "w=512", StringComparison.Ordinal));
            await ProblemAssert.IsProblemAsync(tampered, HttpStatusCode.Forbidden, ErrorCodes.InvalidSignature);
        }
    }

    [Fact]
    public async Task Only_the_owner_is_sent_to_the_store_without_a_signature_and_nobody_else_gets_a_link()
    {
        var (user, image) = await MakeImageAsync();
        using (user)
        {
            using var stranger = await graph.CreateUserAsync(Token);
            foreach (var (who, expected) in new[] { (user, HttpStatusCode.Redirect), (stranger, HttpStatusCode.NotFound) })
            {
                foreach (var path in new[] { $"/images/{image.Id}", $"/images/{image.Id}?w=256" })
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(graph.GatewayAddress, path));
                    request.Headers.Authorization = new("Bearer", who.AccessToken);
                    using var response = await _browser.SendAsync(request, Token);
                    Assert.Equal(expected, response.StatusCode);
                    Assert.Equal(expected == HttpStatusCode.Redirect, response.Headers.Location is not null);
                }
            }

            // Nor can a stranger have a fresh store link made for someone else's image.
            using var refresh = await stranger.Client.PostAsJsonAsync($"/api/images/{image.Id}/signed-url", new { expiresIn = 60 }, Token);
            await ProblemAssert.IsProblemAsync(refresh, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        }
    }

    [Fact]
    public async Task Deleting_an_image_deletes_its_objects_so_old_store_links_find_nothing()
    {
        var (user, image) = await MakeImageAsync();
        using (user)
        {
            var variant = image.Variants[0].Url;
            Uri variantObject;
            using (var warm = await FetchAsync(variant))
            {
                variantObject = warm.Headers.Location!;
            }

            using var delete = await user.Client.DeleteAsync($"/api/images/{image.Id}", Token);
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

            // Signed, unexpired links to objects that are gone: the store answers 404 (NoSuchKey).
            using (var original = await _browser.GetAsync(image.Url, Token))
            {
                Assert.Equal(HttpStatusCode.NotFound, original.StatusCode);
            }

            using (var resized = await _browser.GetAsync(variantObject, Token))
            {
                Assert.Equal(HttpStatusCode.NotFound, resized.StatusCode);
            }

            using var ours = await FetchAsync(variant);
            await ProblemAssert.IsProblemAsync(ours, HttpStatusCode.Gone, ErrorCodes.ImageDeleted);
        }
    }

    public void Dispose() => _browser.Dispose();
}
