using System.Net.Http.Json;
using ImageGen.Core.Quests;
using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>
/// A Midjourney grid in the gallery offers U1-U4, V1-V4 and reroll, an upscale vary, zoom out and pan; a click starts
/// the follow-up, linked to the picture it follows.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class MidjourneyPageTests(GraphFixture graph, BrowserFixture browser)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_grid_in_the_gallery_offers_upscales_and_variations_and_a_click_starts_one()
    {
        using var user = await graph.CreateUserAsync(Token);
        var grid = await graph.CreateAndWaitAsync(user, new { prompt = "a harbour at dawn", model = "midjourney" }, Token);
        var (context, page) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
        await using var _ = context;

        await page.GotoAsync("/gallery");
        await page.ClickAsync($".tile[data-image-id='{grid.Images[0].Id}']:enabled");
        await Assertions.Expect(page.Locator("#follow-ups button")).ToHaveCountAsync(9);
        await page.ClickAsync("#follow-ups button[data-action='U3']");
        await Assertions.Expect(page.Locator("#follow-up-note")).ToContainTextAsync("U3 started (2 credits)");

        var quests = (await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items;
        var upscale = Assert.Single(quests, q => q.Parameters.Action == "U3");
        Assert.Equal([grid.Images[0].Id], upscale.Parameters.Images);
        upscale = await graph.WaitForEndAsync(user, upscale.Id, Token);
        Assert.Equal(QuestStatus.Succeeded, upscale.Status);

        // The upscale offers what follows an upscale: vary, zoom out and pan.
        await page.GotoAsync("/gallery");
        await page.ClickAsync($".tile[data-image-id='{upscale.Images[0].Id}']:enabled");
        await Assertions.Expect(page.Locator("#follow-ups button")).ToHaveCountAsync(8);
        await page.ClickAsync("#follow-ups button[data-action='zoom_out_2x']");
        await Assertions.Expect(page.Locator("#follow-up-note")).ToContainTextAsync("started (8 credits)");
        var zoom = Assert.Single((await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items, q => q.Parameters.Action == "zoom_out_2x");
        Assert.Equal([upscale.Images[0].Id], zoom.Parameters.Images);
    }
}
