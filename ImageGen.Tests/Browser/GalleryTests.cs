using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using ImageGen.Core.Quests;
using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

[Collection(SecondBrowserCollection.Name)]
public sealed partial class GalleryTests(GraphFixture graph, BrowserFixture browser)
{
    private const float TimeoutMs = 30_000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [GeneratedRegex(@"/images/([0-9a-f]{32})")]
    private static partial Regex ImageId();

    [Fact]
    public async Task The_gallery_paints_placeholders_first_then_the_right_width_and_an_expired_link_recovers_without_a_reload()
    {
        using var user = await graph.CreateUserAsync(Token);
        var first = await MakeAsync(user, "a red kite over a field");
        var second = await MakeAsync(user, "a blue boat in a harbour");

        var (context, page) = await SignInAsync(user);
        await using var _ = context;

        // Image bytes are held back until the placeholders have been seen. Then every link the page was rendered with
        // answers as an expired link does; only links minted later (a later expiry) are let through.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstExpiry = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refused = new ConcurrentDictionary<string, int>();
        var loaded = new ConcurrentBag<(string Id, string? ContentType)>();
        await page.RouteAsync("**/images/**", async route =>
        {
            var expiry = Expiry(route.Request.Url);
            firstExpiry.TrySetResult(expiry);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60));
            if (expiry <= await firstExpiry.Task)
            {
                refused.AddOrUpdate(ImageId().Match(route.Request.Url).Groups[1].Value, 1, (_, n) => n + 1);
                await route.FulfillAsync(new RouteFulfillOptions
                {
                    Status = (int)HttpStatusCode.Forbidden,
                    ContentType = "application/problem+json",
                    Body = """{"status":403,"title":"Forbidden","code":"url_expired"}""",
                });
                return;
            }

            await route.ContinueAsync();
        });
        page.Response += (_, response) =>
        {
            if (response.Status == 200 && ImageId().Match(response.Url) is { Success: true } match)
            {
                loaded.Add((match.Groups[1].Value, response.Headers.GetValueOrDefault("content-type")));
            }
        };

        await page.GotoAsync("/gallery");
        var tiles = page.Locator("#gallery-grid img");
        await Assertions.Expect(tiles).ToHaveCountAsync(2);
        // Interactive (the tiles open the full view), so the images checked below are the ones that stay on the page.
        await Assertions.Expect(page.Locator(".tile:enabled")).ToHaveCountAsync(2);
        // Newest first, each painted at once from its inline placeholder while no image byte has arrived.
        Assert.Equal(["a blue boat in a harbour", "a red kite over a field"], await tiles.EvaluateAllAsync<string[]>("imgs => imgs.map(i => i.alt)"));
        Assert.All(await tiles.EvaluateAllAsync<string[]>("imgs => imgs.map(i => i.style.backgroundImage)"),
            background => Assert.StartsWith("url(\"data:image/webp;base64,", background));
        Assert.All(await tiles.EvaluateAllAsync<int[]>("imgs => imgs.map(i => i.naturalWidth)"), width => Assert.Equal(0, width));
        await page.EvaluateAsync("() => window.notReloaded = true");

        release.SetResult();

        // Both images end up loaded, through refreshed links, in the same document.
        await page.WaitForFunctionAsync(
            "() => [...document.querySelectorAll('#gallery-grid img')].every(i => i.complete && i.naturalWidth > 0 && i.dataset.linkState === 'refreshed')",
            null, new() { Timeout = TimeoutMs });
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        Assert.Equal(new[] { first.Images[0].Id.ToString("N"), second.Images[0].Id.ToString("N") }.Order(), refused.Keys.Order());

        // A grid cell is about 220 CSS px at density 1: the 256 px variant, as WebP (the browser accepts it), not the original.
        foreach (var tile in await tiles.AllAsync())
        {
            Assert.Equal(256, await tile.EvaluateAsync<int>(ImageProbe.PixelWidth));
        }

        Assert.Contains(loaded, l => l.ContentType == "image/webp");
    }

    [Fact]
    public async Task The_full_view_shows_what_made_the_image_starts_it_again_with_its_seed_and_deletes_it()
    {
        using var user = await graph.CreateUserAsync(Token);
        var quest = await MakeAsync(user, "a lantern in the snow", seed: 4242);
        await MakeAsync(user, "a second picture");

        var (context, page) = await SignInAsync(user);
        await using var _ = context;

        await page.GotoAsync("/gallery");
        await page.ClickAsync($".tile[data-image-id='{quest.Images[0].Id}']:enabled");
        var viewer = page.Locator("#viewer");
        await Assertions.Expect(viewer.Locator("#viewer-prompt")).ToHaveTextAsync("a lantern in the snow");
        await Assertions.Expect(viewer.Locator("#viewer-seed")).ToHaveTextAsync("4242");
        await Assertions.Expect(viewer.Locator("#viewer-cost")).ToHaveTextAsync("1 credit");
        await Assertions.Expect(viewer.Locator("#viewer-duration")).ToContainTextAsync("s");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#viewer img.full'); return i && i.complete && i.naturalWidth > 0; }",
            null, new() { Timeout = TimeoutMs });
        // Shown up to 900 px wide: the browser takes the 512 px original, the largest there is.
        Assert.Equal(512, await page.Locator("#viewer img.full").EvaluateAsync<int>(ImageProbe.PixelWidth));

        // Download: the signed original, same origin, saved under a readable name.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download"));
        Assert.Matches(@"^imagegen-\d{8}-\d{6}-[0-9a-f]{8}\.png$", download.SuggestedFilename);
        Assert.True(new FileInfo(await download.PathAsync()).Length > 1000);

        // Again: the form comes back filled with the prompt, the model, the size and the seed.
        await page.ClickAsync("#again");
        await page.WaitForURLAsync($"**/?again={quest.Id}");
        await Assertions.Expect(page.Locator("#prompt")).ToHaveValueAsync("a lantern in the snow");
        await Assertions.Expect(page.Locator("#seed")).ToHaveValueAsync("4242");
        await Assertions.Expect(page.Locator("#size")).ToHaveValueAsync("512x512");

        // Search by a word of the prompt, mark a favourite, and find it again with the favourites switch.
        await page.GotoAsync("/gallery");
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(2);
        await page.FillAsync("#gallery-search:enabled", "lantern");
        await page.ClickAsync("#gallery-search-go");
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(1);
        await page.ClickAsync($".tile[data-image-id='{quest.Images[0].Id}']:enabled");
        await page.ClickAsync("#favorite");
        await Assertions.Expect(page.Locator("#favorite")).ToHaveAttributeAsync("aria-pressed", "true");
        await page.ClickAsync("#viewer-close");
        await page.FillAsync("#gallery-search", "");
        await page.CheckAsync("#gallery-favorites");
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#gallery-grid li.favorite")).ToHaveCountAsync(1);

        // Delete, after a confirmation: the tile goes and the image is gone at the API, while the charge stays.
        await page.GotoAsync("/gallery");
        await page.ClickAsync($".tile[data-image-id='{quest.Images[0].Id}']:enabled");
        await page.ClickAsync("#delete");
        await page.ClickAsync("#delete-confirm");
        await Assertions.Expect(page.Locator("#viewer")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#gallery-grid img")).ToHaveCountAsync(1);
        using var gone = await user.Client.GetAsync($"/api/images/{quest.Images[0].Id}", Token);
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        await page.GotoAsync("/account");
        await Assertions.Expect(page.Locator("#account-balance")).ToHaveTextAsync("98");
    }

    private static long Expiry(string url) =>
        long.Parse(System.Web.HttpUtility.ParseQueryString(new Uri(url).Query)["exp"] ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Picked_images_go_in_a_collection_download_as_one_zip_and_a_shared_link_opens_for_a_stranger_until_stopped()
    {
        using var user = await graph.CreateUserAsync(Token);
        var quests = await Task.WhenAll(MakeAsync(user, "a tram in the rain"), MakeAsync(user, "a tram at night"), MakeAsync(user, "a quiet library"));
        var (context, page) = await SignInAsync(user);
        await using var _ = context;

        await page.GotoAsync("/gallery");
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(3);
        await page.FillAsync("#new-collection:enabled", "Trams");
        await page.ClickAsync("#create-collection");
        await Assertions.Expect(page.Locator("#gallery-note")).ToContainTextAsync("'Trams' created");

        await page.ClickAsync("#select-mode");
        foreach (var quest in quests.Take(2))
        {
            await page.ClickAsync($".tile[data-image-id='{quest.Images[0].Id}']");
        }

        await Assertions.Expect(page.Locator("#selection-count")).ToContainTextAsync("2 selected");
        await page.ClickAsync("#add-selected");
        await Assertions.Expect(page.Locator("#gallery-note")).ToContainTextAsync("2 images added to 'Trams'");

        // The zip the browser saves holds the two picked images.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-selected"));
        using (var zip = System.IO.Compression.ZipFile.OpenRead(await download.PathAsync()))
        {
            Assert.Equal(2, zip.Entries.Count);
            Assert.All(zip.Entries, e => Assert.Contains("a-tram-", e.Name, StringComparison.Ordinal));
        }

        await page.ClickAsync("#select-mode");
        await page.SelectOptionAsync("#gallery-collection", new SelectOptionValue { Label = "Trams (2)" });
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(2);

        // Share one: a stranger opens the link with no account; once sharing stops, the link opens nothing.
        await page.ClickAsync($".tile[data-image-id='{quests[0].Images[0].Id}']");
        await page.ClickAsync("#share");
        var url = await page.Locator("#share-url").InputValueAsync();
        Assert.Contains("/images/shared/", url, StringComparison.Ordinal);
        using var stranger = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        using (var opened = await stranger.GetAsync(url, Token))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
            Assert.StartsWith("image/", opened.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        }

        await page.ClickAsync("#unshare");
        await Assertions.Expect(page.Locator("#share")).ToBeVisibleAsync();
        using (var stopped = await stranger.GetAsync(url, Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, stopped.StatusCode);
        }

        // Delete picked ones at once.
        await page.ClickAsync("#viewer-close");
        await page.SelectOptionAsync("#gallery-collection", new SelectOptionValue { Label = "All images" });
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(3);
        await page.ClickAsync("#select-mode");
        await page.ClickAsync($".tile[data-image-id='{quests[2].Images[0].Id}']");
        await page.ClickAsync("#delete-selected");
        await Assertions.Expect(page.Locator("#gallery-note")).ToContainTextAsync("1 image deleted");
        await Assertions.Expect(page.Locator("#gallery-grid .tile")).ToHaveCountAsync(2);
    }

    private Task<QuestDto> MakeAsync(TestUser user, string prompt, long? seed = null) =>
        graph.CreateAndWaitAsync(user, new { prompt, model = "local-sketch", width = 512, height = 512, seed }, Token);

    private Task<(IBrowserContext Context, IPage Page)> SignInAsync(TestUser user) =>
        browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
}
