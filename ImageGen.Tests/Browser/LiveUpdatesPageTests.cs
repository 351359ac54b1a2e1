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

    private static async Task<int> ProgressAsync(IPage page) =>
        int.Parse(await page.Locator("#progress").GetAttributeAsync("aria-valuenow") ?? "0", System.Globalization.CultureInfo.InvariantCulture);

    private async Task PauseAsync(bool paused)
    {
        using var response = await graph.Admin.Client.PutAsJsonAsync("/api/admin/live-updates", new { paused, minutes = 2 }, Token);
        response.EnsureSuccessStatusCode();
    }

    private async Task SetBflAsync(string profile)
    {
        using var response = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile, latencyMs = 20_000 }, Token);
        response.EnsureSuccessStatusCode();
    }
}
