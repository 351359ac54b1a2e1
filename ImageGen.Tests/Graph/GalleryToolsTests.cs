using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;

namespace ImageGen.Tests.Graph;

/// <summary>What someone with a full gallery does with it: share one image, gather images in collections, delete or download many at once.</summary>
public sealed class GalleryToolsTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<List<Guid>> ImagesAsync(TestUser user, params string[] prompts)
    {
        var quests = await Task.WhenAll(prompts.Select(prompt =>
            graph.CreateAndWaitAsync(user, new { prompt, model = "local-sketch", width = 64, height = 64 }, Token)));
        return [.. quests.Select(q => q.Images[0].Id)];
    }

    [Fact]
    public async Task A_shared_link_opens_the_image_without_an_account_until_revoked_and_only_the_owner_shares()
    {
        using var owner = await graph.CreateUserAsync(Token);
        var image = (await ImagesAsync(owner, "a lighthouse worth sharing"))[0];
        var original = await owner.Client.GetByteArrayAsync($"/images/{image}", Token);
        var address = GraphFixture.FreshLoopbackAddress();
        using var stranger = graph.ClientFrom(address);
        using var raw = graph.ClientFrom(address, followRedirects: false);

        using (var other = await graph.CreateUserAsync(Token))
        using (var theirs = await other.Client.PostAsync($"/api/images/{image}/share", null, Token))
        {
            await ProblemAssert.IsProblemAsync(theirs, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        }

        using (var anonymous = await stranger.PostAsync($"/api/images/{image}/share", null, Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var first = await ShareAsync(owner, image);
        Assert.True((await owner.Client.GetFromJsonAsync<ImageDto>($"/api/images/{image}", GraphFixture.Json, Token))!.Shared);
        using (var opened = await stranger.GetAsync(first.Url, Token))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
            Assert.Equal(original, await opened.Content.ReadAsByteArrayAsync(Token));
        }

        // What the API itself answers: no indexing, and a copy kept a minute at most.
        using (var direct = await raw.GetAsync(first.Url, Token))
        {
            Assert.True(direct.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found, $"{direct.StatusCode}");
            Assert.Contains("noindex", direct.Headers.GetValues("X-Robots-Tag").Single(), StringComparison.Ordinal);
            Assert.True(direct.Headers.CacheControl?.MaxAge <= TimeSpan.FromSeconds(60), $"cache-control: {direct.Headers.CacheControl}");
        }

        // Sharing again replaces the link; revoking ends the new one at once. Revoked, replaced and never-made tokens
        // answer alike.
        var second = await ShareAsync(owner, image);
        Assert.NotEqual(first.Token, second.Token);
        using (var opened = await stranger.GetAsync(second.Url, Token))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        }

        using (var revoke = await owner.Client.DeleteAsync($"/api/images/{image}/share", Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.False((await owner.Client.GetFromJsonAsync<ImageDto>($"/api/images/{image}", GraphFixture.Json, Token))!.Shared);

        var guessed = "/images/shared/" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var answers = new List<string>();
        foreach (var url in new[] { first.Url, second.Url, guessed, "/images/shared/short", "/images/shared/" + new string('a', 5000) })
        {
            using var gone = await raw.GetAsync(url, Token);
            var problem = await ProblemAssert.IsProblemAsync(gone, HttpStatusCode.NotFound, ErrorCodes.ShareNotFound);
            answers.Add(problem.GetProperty("detail").GetString()!);
        }

        Assert.Single(answers.Distinct());

        // A deleted image's link opens nothing either.
        var third = await ShareAsync(owner, image);
        (await owner.Client.DeleteAsync($"/api/images/{image}", Token)).Dispose();
        using var deleted = await raw.GetAsync(third.Url, Token);
        await ProblemAssert.IsProblemAsync(deleted, HttpStatusCode.NotFound, ErrorCodes.ShareNotFound);
    }

    [Fact]
    public async Task Sharing_one_image_many_times_at_once_leaves_exactly_one_live_link_and_a_revoke_ends_it()
    {
        using var owner = await graph.CreateUserAsync(Token);
        var image = (await ImagesAsync(owner, "a lighthouse shared in a hurry"))[0];
        using var stranger = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());

        var links = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ShareAsync(owner, image)));
        var live = new List<string>();
        foreach (var link in links)
        {
            using var opened = await stranger.GetAsync(link.Url, Token);
            if (opened.StatusCode == HttpStatusCode.OK)
            {
                live.Add(link.Token);
            }
        }

        Assert.Single(live);

        // A revoke ends it, and every link made before, at once.
        using (var revoke = await owner.Client.DeleteAsync($"/api/images/{image}/share", Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.False((await owner.Client.GetFromJsonAsync<ImageDto>($"/api/images/{image}", GraphFixture.Json, Token))!.Shared);
        foreach (var link in links)
        {
            using var gone = await stranger.GetAsync(link.Url, Token);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
    }

    [Fact]
    public async Task Guessing_share_tokens_from_one_address_is_slowed_with_429()
    {
        using var guesser = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        var statuses = new List<HttpStatusCode>();
        // The default allowance is a burst of 60; a guesser runs out of it.
        for (var i = 0; i < 90; i++)
        {
            using var response = await guesser.GetAsync("/images/shared/" + new string((char)('a' + i % 26), 43), Token);
            statuses.Add(response.StatusCode);
        }

        // Past the burst, most answers are 429: the allowance refills at 2 a second, so one now and then gets through.
        Assert.All(statuses.Take(50), s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests, $"{s}"));
        Assert.True(statuses.Skip(60).Count(s => s == HttpStatusCode.TooManyRequests) >= 10, string.Join(", ", statuses.Select(s => (int)s)));
    }

    [Fact]
    public async Task Collections_gather_the_owners_images_and_stay_out_of_reach_of_anyone_else()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var other = await graph.CreateUserAsync(Token);
        var images = await ImagesAsync(user, "a fox in snow", "a fox in leaves", "a heron at dusk");
        var theirs = (await ImagesAsync(other, "someone else's picture"))[0];

        var foxes = await CreateAsync(user, "Foxes");
        var birds = await CreateAsync(user, "  Birds  ");
        Assert.Equal("Birds", birds.Name);
        using (var twice = await user.Client.PostAsJsonAsync("/api/collections", new { name = "Foxes" }, Token))
        {
            await ProblemAssert.IsProblemAsync(twice, HttpStatusCode.Conflict, ErrorCodes.CollectionNameTaken, "name");
        }

        foreach (var (body, code) in new (object, string)[] { (new { name = "" }, ErrorCodes.Required), (new { name = new string('x', 81) }, ErrorCodes.ValueOutOfRange), (new { name = "a\u0001b" }, ErrorCodes.ControlCharacters) })
        {
            using var bad = await user.Client.PostAsJsonAsync("/api/collections", body, Token);
            await ProblemAssert.IsProblemAsync(bad, HttpStatusCode.BadRequest, code, "name");
        }

        await PutAsync(user, $"/api/collections/{foxes.Id}/images/{images[0]}", HttpStatusCode.NoContent);
        await PutAsync(user, $"/api/collections/{foxes.Id}/images/{images[1]}", HttpStatusCode.NoContent);
        await PutAsync(user, $"/api/collections/{foxes.Id}/images/{images[1]}", HttpStatusCode.NoContent);
        // An image may be in several collections.
        await PutAsync(user, $"/api/collections/{birds.Id}/images/{images[2]}", HttpStatusCode.NoContent);
        await PutAsync(user, $"/api/collections/{birds.Id}/images/{images[1]}", HttpStatusCode.NoContent);

        // Someone else's image cannot go in; someone else cannot see, fill, rename or delete this collection.
        await PutAsync(user, $"/api/collections/{foxes.Id}/images/{theirs}", HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        await PutAsync(other, $"/api/collections/{foxes.Id}/images/{theirs}", HttpStatusCode.NotFound, ErrorCodes.CollectionNotFound);
        using (var peek = await other.Client.GetAsync($"/api/images?collection={foxes.Id}", Token))
        {
            await ProblemAssert.IsProblemAsync(peek, HttpStatusCode.NotFound, ErrorCodes.CollectionNotFound);
        }

        using (var rename = await other.Client.PatchAsJsonAsync($"/api/collections/{foxes.Id}", new { name = "Mine now" }, Token))
        {
            await ProblemAssert.IsProblemAsync(rename, HttpStatusCode.NotFound, ErrorCodes.CollectionNotFound);
        }

        using (var delete = await other.Client.DeleteAsync($"/api/collections/{foxes.Id}", Token))
        {
            await ProblemAssert.IsProblemAsync(delete, HttpStatusCode.NotFound, ErrorCodes.CollectionNotFound);
        }

        Assert.Empty((await other.Client.GetFromJsonAsync<List<CollectionDto>>("/api/collections", GraphFixture.Json, Token))!);

        Assert.Equal(new[] { images[0], images[1] }.Order(), (await InCollectionAsync(user, foxes.Id)).Order());
        Assert.Equal([images[1]], await InCollectionAsync(user, foxes.Id, "&q=leaves"));
        var listed = (await user.Client.GetFromJsonAsync<List<CollectionDto>>("/api/collections", GraphFixture.Json, Token))!;
        Assert.Equal([("Birds", 2), ("Foxes", 2)], listed.Select(c => (c.Name, c.ImageCount)));

        // Rename (not onto another's name), take one out, then delete the collection: the images stay.
        using (var clash = await user.Client.PatchAsJsonAsync($"/api/collections/{foxes.Id}", new { name = "Birds" }, Token))
        {
            await ProblemAssert.IsProblemAsync(clash, HttpStatusCode.Conflict, ErrorCodes.CollectionNameTaken, "name");
        }

        using (var renamed = await user.Client.PatchAsJsonAsync($"/api/collections/{foxes.Id}", new { name = "Red foxes" }, Token))
        {
            Assert.Equal("Red foxes", (await renamed.Content.ReadFromJsonAsync<CollectionDto>(GraphFixture.Json, Token))!.Name);
        }

        (await user.Client.DeleteAsync($"/api/collections/{foxes.Id}/images/{images[0]}", Token)).Dispose();
        Assert.Equal([images[1]], await InCollectionAsync(user, foxes.Id));
        (await user.Client.DeleteAsync($"/api/collections/{foxes.Id}", Token)).Dispose();
        using (var gone = await user.Client.GetAsync($"/api/images?collection={foxes.Id}", Token))
        {
            await ProblemAssert.IsProblemAsync(gone, HttpStatusCode.NotFound, ErrorCodes.CollectionNotFound);
        }

        Assert.Equal(3, (await user.Client.GetFromJsonAsync<ImagePage>("/api/images", GraphFixture.Json, Token))!.Items.Count);

        // The same name created in parallel makes one collection.
        var parallel = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => user.Client.PostAsJsonAsync("/api/collections", new { name = "Twins" }, Token)));
        Assert.Equal(1, parallel.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(parallel.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
    }

    [Fact]
    public async Task Many_images_download_as_one_zip_and_delete_at_once_for_their_owner_only()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var other = await graph.CreateUserAsync(Token);
        var images = await ImagesAsync(user, "a kite over dunes", "a tent under stars", "a canoe on a lake");
        var theirs = (await ImagesAsync(other, "not yours to take"))[0];

        using (var zipped = await user.Client.PostAsJsonAsync("/api/images/download", new { ids = images }, Token))
        {
            Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);

            Assert.Equal("application/zip", zipped.Content.Headers.ContentType?.MediaType);
            using var zip = new ZipArchive(await zipped.Content.ReadAsStreamAsync(Token));
            Assert.Equal(3, zip.Entries.Count);
            var kite = Assert.Single(zip.Entries, e => e.Name.Contains("a-kite-over-dunes", StringComparison.Ordinal));
            using var copy = new MemoryStream();
            await using (var entry = await kite.OpenAsync(Token))
            {
                await entry.CopyToAsync(copy, Token);
            }

            Assert.Equal(await user.Client.GetByteArrayAsync($"/images/{images[0]}", Token), copy.ToArray());
        }

        // Every id must be the caller's; the list is bounded.
        using (var mixed = await user.Client.PostAsJsonAsync("/api/images/download", new { ids = new[] { images[0], theirs } }, Token))
        {
            await ProblemAssert.IsProblemAsync(mixed, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound, "ids");
        }

        var tenThousand = Enumerable.Range(0, 10_000).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var path in new[] { "/api/images/download", "/api/images/bulk-delete" })
        {
            using var huge = await user.Client.PostAsJsonAsync(path, new { ids = tenThousand }, Token);
            await ProblemAssert.IsProblemAsync(huge, HttpStatusCode.BadRequest, ErrorCodes.ValueOutOfRange, "ids");
            using var none = await user.Client.PostAsJsonAsync(path, new { ids = Array.Empty<Guid>() }, Token);
            await ProblemAssert.IsProblemAsync(none, HttpStatusCode.BadRequest, ErrorCodes.Required, "ids");
        }

        // Bulk delete takes the caller's and names the rest back; the other user's image stays.
        using (var deleted = await user.Client.PostAsJsonAsync("/api/images/bulk-delete", new { ids = new[] { images[0], images[1], theirs } }, Token))
        {
            var result = (await deleted.Content.ReadFromJsonAsync<BulkDeleteResponse>(GraphFixture.Json, Token))!;
            Assert.Equal(2, result.Deleted);
            Assert.Equal([theirs], result.NotFound);
        }

        Assert.Equal([images[2]], (await user.Client.GetFromJsonAsync<ImagePage>("/api/images", GraphFixture.Json, Token))!.Items.Select(i => i.Id));
        using (var gone = await user.Client.GetAsync($"/images/{images[0]}", Token))
        {
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        }

        Assert.Single((await other.Client.GetFromJsonAsync<ImagePage>("/api/images", GraphFixture.Json, Token))!.Items);
    }

    private static async Task<ShareLinkResponse> ShareAsync(TestUser owner, Guid image)
    {
        using var response = await owner.Client.PostAsync($"/api/images/{image}/share", null, Token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ShareLinkResponse>(GraphFixture.Json, Token))!;
    }

    private static async Task<CollectionDto> CreateAsync(TestUser user, string name)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/collections", new { name }, Token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CollectionDto>(GraphFixture.Json, Token))!;
    }

    private static async Task PutAsync(TestUser user, string path, HttpStatusCode status, string? code = null)
    {
        using var response = await user.Client.PutAsync(path, null, Token);
        if (code is null)
        {
            Assert.Equal(status, response.StatusCode);
        }
        else
        {
            await ProblemAssert.IsProblemAsync(response, status, code);
        }
    }

    private static async Task<List<Guid>> InCollectionAsync(TestUser user, Guid collection, string more = "") =>
        [.. (await user.Client.GetFromJsonAsync<ImagePage>($"/api/images?collection={collection}{more}", GraphFixture.Json, Token))!.Items.Select(i => i.Id)];
}
