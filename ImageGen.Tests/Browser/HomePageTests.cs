using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

[Collection(GraphCollection.Name)]
public sealed class HomePageTests(GraphFixture graph, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const float TimeoutMs = 30_000;

    [Fact]
    public async Task A_person_writes_a_prompt_watches_it_paint_and_sees_the_image()
    {
        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = graph.GatewayAddress.ToString() });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        var failedResponses = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                failedResponses.Add($"{response.Status} {response.Url}");
            }
        };

        await page.GotoAsync("/");
        await page.FillAsync("#prompt", "a lighthouse on a cliff at night");
        await page.SelectOptionAsync("#size", "512x512");
        // The button is enabled only once the circuit is interactive, so the click cannot be lost.
        await page.ClickAsync("#create:enabled");

        // While it runs: a progress bar and the painter's status text.
        await Assertions.Expect(page.Locator("#progress")).ToBeVisibleAsync(new() { Timeout = TimeoutMs });
        await Assertions.Expect(page.Locator("#status-text")).ToContainTextAsync("Now painting", new() { Timeout = TimeoutMs });

        // Then the image itself, actually loaded at the chosen size.
        var image = page.Locator("section.current img.result");
        await Assertions.Expect(image).ToBeVisibleAsync(new() { Timeout = TimeoutMs });
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('section.current img.result'); return i && i.complete && i.naturalWidth > 0; }",
            null, new() { Timeout = TimeoutMs });
        Assert.Equal(512, await image.EvaluateAsync<int>("i => i.naturalWidth"));
        await Assertions.Expect(page.Locator("#status-text")).ToHaveTextAsync("Done.");

        // And the quest is in the recent list.
        await Assertions.Expect(page.Locator(".recent li").First).ToContainTextAsync("a lighthouse on a cliff at night");
        Assert.Empty(failedResponses);
    }

    [Fact]
    public async Task A_bad_prompt_shows_the_reason_next_to_the_field()
    {
        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = graph.GatewayAddress.ToString() });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");
        await page.FillAsync("#prompt", "   ");
        await page.ClickAsync("#create:enabled");

        await Assertions.Expect(page.Locator(".field-error[data-field=prompt]")).ToContainTextAsync("Write a prompt");
        await Assertions.Expect(page.Locator("section.current")).ToHaveCountAsync(0);
    }
}
