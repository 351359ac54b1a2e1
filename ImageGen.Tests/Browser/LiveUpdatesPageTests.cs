using System.Net.Http.Json;
using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>
/// Never stuck at "Now painting": with every hub connection refused at once (live updates paused by an operator, for
/// longer than the web's reconnect schedule), the page follows its quest by polling and says so, its connection reaches
/// Closed and keeps trying; when the hub answers again it reconnects and shows the finished image without a reload.
/// Runs on the two-host graph, whose collection runs one test at a time: the pause is fleet-wide.
/// </summary>
[Collection(TwoHostCollection.Name)]
public sealed class LiveUpdatesPageTests(TwoHostGraphFixture graph, BrowserFixture browser)
{
    private const float TimeoutMs = 30_000;
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_the_hub_refusing_the_page_polls_reaches_closed_and_shows_the_image_once_the_hub_answers_again()
    {
        using var user = await graph.CreateUserAsync(Token);
        var (context, page) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
        await using var _ = context;
        // FLUX paints slowly here (20 s, progress as it goes), long enough to lose the hub and get it back.
        await SetBflAsync("Slow");
        try
        {
            await page.GotoAsync("/");
            await page.FillAsync("#prompt", "a lighthouse that keeps shining");
            await page.SelectOptionAsync("#model", "flux-pro-1.1");
            await page.ClickAsync("#create:enabled");
            await Assertions.Expect(page.Locator("#live-state")).ToHaveAttributeAsync("data-live", "connected", new() { Timeout = TimeoutMs });
            await Assertions.Expect(page.Locator("#progress")).ToBeVisibleAsync(new() { Timeout = TimeoutMs });

            // Paused: every hub connection closes and new ones are refused at once. The web's schedule here is two
            // quick retries, so it reaches Closed; the page says it polls, and the bar still moves.
            await PauseAsync(true);
            await Assertions.Expect(page.Locator("#live-state")).ToHaveAttributeAsync("data-live", "closed", new() { Timeout = TimeoutMs });
            await Assertions.Expect(page.Locator("#connection-note")).ToContainTextAsync("checking for progress every 2 s", new() { Timeout = TimeoutMs });
            var before = await ProgressAsync(page);
            await page.WaitForFunctionAsync($"() => Number(document.querySelector('#progress')?.getAttribute('aria-valuenow') ?? 100) > {before}", null,
                new() { Timeout = TimeoutMs });
        }
        finally
        {
            await PauseAsync(false);
            await SetBflAsync("Healthy");
        }

        // The hub answers again: the page reconnects by itself and shows the image, with no reload.
        await Assertions.Expect(page.Locator("#live-state")).ToHaveAttributeAsync("data-live", "connected", new() { Timeout = TimeoutMs });
        await Assertions.Expect(page.Locator("section.current img.result")).ToBeVisibleAsync(new() { Timeout = TimeoutMs });
        await Assertions.Expect(page.Locator("#connection-note")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task With_every_hub_connection_refused_the_edit_page_and_a_gallery_follow_up_follow_their_quests_by_polling_and_say_so()
    {
        using var user = await graph.CreateUserAsync(Token);
        var source = await graph.CreateAndWaitAsync(user, new { prompt = "a harbour to edit", model = "local-sketch", width = 256, height = 256 }, Token);
        var grid = await graph.CreateAndWaitAsync(user, new { prompt = "a harbour grid", model = "midjourney" }, Token);
        var (context, page) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
        await using var _ = context;
        // Both providers paint slowly enough (3 s) to be seen following by polling (every 2 s).
        await SetBflAsync("Slow", 3000);
        await SetMidjourneyAsync("Slow", 3000);
        await PauseAsync(true);
        try
        {
            // The edit page: the quest runs, the page says it checks every 2 s, and the result arrives with the hub still refused.
            await page.GotoAsync($"/edit/{source.Images[0].Id}");
            await page.SelectOptionAsync("#edit-model:enabled", "flux-kontext-pro");
            await page.FillAsync("#edit-prompt", "the same harbour at night");
            await page.ClickAsync("#edit-create:enabled");
            await Assertions.Expect(page.Locator("#live-note")).ToContainTextAsync("checking for progress every 2 s", new() { Timeout = TimeoutMs });
            await Assertions.Expect(page.Locator("#edit-result-image")).ToBeVisibleAsync(new() { Timeout = TimeoutMs });

            // A gallery follow-up: said to be followed by polling, and first in the gallery when done, no reload.
            await page.GotoAsync("/gallery");
            await page.ClickAsync($".tile[data-image-id='{grid.Images[0].Id}']:enabled");
            await page.ClickAsync("#follow-ups [data-action=reroll]");
            await Assertions.Expect(page.Locator("#follow-up-note")).ToContainTextAsync("checking for progress every 2 s", new() { Timeout = TimeoutMs });
            await Assertions.Expect(page.Locator("#follow-up-note")).ToContainTextAsync("is done: it is first in the gallery", new() { Timeout = TimeoutMs });
            Assert.Equal(HubRefused, await HubAnswerAsync(user));
        }
        finally
        {
            await PauseAsync(false);
            await SetBflAsync("Healthy", 0);
            await SetMidjourneyAsync("Healthy", 0);
        }
    }

    [Fact]
    public async Task A_quest_whose_provider_never_answers_gets_a_note_with_its_last_step_once_nothing_moved_for_the_quiet_period()
    {
        using var user = await graph.CreateUserAsync(Token);
        var (context, page) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
        await using var _ = context;
        await SetBflAsync("Hang", 0);
        try
        {
            await page.GotoAsync("/");
            await page.FillAsync("#prompt", "a lighthouse nobody answers for");
            await page.SelectOptionAsync("#model", "flux-pro-1.1");
            await page.ClickAsync("#create:enabled");
            // Live updates are fine; the provider is not: after 5 s without news (30 s in production) the page says what it knows.
            await Assertions.Expect(page.Locator("#connection-note")).ToContainTextAsync("No news for", new() { Timeout = TimeoutMs });
            await Assertions.Expect(page.Locator("#connection-note")).ToContainTextAsync("Last step:");
            await Assertions.Expect(page.Locator("#connection-note")).ToContainTextAsync("ends by itself");
            Assert.Equal("connected", await page.Locator("#live-state").GetAttributeAsync("data-live"));
        }
        finally
        {
            await SetBflAsync("Healthy", 0);
            // The hung call ends with the quest's cancel (nothing reached BFL, so nothing is charged).
            foreach (var quest in (await user.Client.GetFromJsonAsync<Core.Quests.QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items)
            {
                (await user.Client.PostAsync($"/api/quests/{quest.Id}/cancel", null, Token)).Dispose();
            }
        }
    }

    private const System.Net.HttpStatusCode HubRefused = System.Net.HttpStatusCode.ServiceUnavailable;

    /// <summary>What a hub negotiation gets right now (503 while live updates are paused).</summary>
    private async Task<System.Net.HttpStatusCode> HubAnswerAsync(TestUser user)
    {
        using var response = await user.Client.PostAsync("/hubs/quests/negotiate?negotiateVersion=1", null, Token);
        return response.StatusCode;
    }

    private async Task SetMidjourneyAsync(string profile, int latencyMs)
    {
        using var response = await graph.Simulator.PutAsJsonAsync("/admin/faults/midjourney", new { profile, latencyMs }, Token);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<int> ProgressAsync(IPage page) =>
        int.Parse(await page.Locator("#progress").GetAttributeAsync("aria-valuenow") ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    private async Task PauseAsync(bool paused)
    {
        using var response = await graph.Admin.Client.PutAsJsonAsync("/api/admin/live-updates", new { paused, minutes = 2 }, Token);
        response.EnsureSuccessStatusCode();
    }

    private async Task SetBflAsync(string profile, int latencyMs = 20_000)
    {
        using var response = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile, latencyMs }, Token);
        response.EnsureSuccessStatusCode();
    }
}
