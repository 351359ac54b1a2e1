using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>
/// The main graph runs two web instances behind the gateway. A Blazor circuit lives in one instance's memory: the
/// gateway's affinity cookie keeps the browser's requests, and the circuit's reconnects, on that instance.
/// </summary>
[Collection(SecondBrowserCollection.Name)]
public sealed class WebAffinityTests(GraphFixture graph, BrowserFixture browser)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The gateway's affinity cookie (<c>GatewayRoutes.WebAffinityCookie</c>).</summary>
    private const string AffinityCookie = ".ImageGen.Web";

    /// <summary>Keeps every WebSocket the page opens, so the test can drop the circuit's connection as a network would.</summary>
    private const string TrackSockets = """
        window.sockets = [];
        const Native = window.WebSocket;
        window.WebSocket = class extends Native {
            constructor(...args) { super(...args); window.sockets.push(this); }
        };
        """;

    private const string OpenCircuits = "() => window.sockets.filter(s => s.url.includes('_blazor') && s.readyState === WebSocket.OPEN).length";

    [Fact]
    public async Task A_circuit_survives_its_connection_dropping_again_and_again_because_the_browser_stays_on_its_instance()
    {
        // New browsers are spread over both instances, each told by the cookie which one is its own.
        var cookies = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            await using var fresh = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = graph.GatewayAddress.ToString() });
            var page = await fresh.NewPageAsync();
            await page.GotoAsync("/account/login");
            var affinity = (await fresh.CookiesAsync()).Single(c => c.Name == AffinityCookie);
            Assert.True(affinity.HttpOnly);
            cookies.Add(affinity.Value);
        }

        Assert.True(cookies.Distinct().Count() >= 2, $"every new browser went to one instance: {string.Join(", ", cookies)}");

        using var user = await graph.CreateUserAsync(Token);
        var (context, signedIn) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password, TrackSockets);
        await using var _ = context;
        await signedIn.WaitForFunctionAsync($"() => ({OpenCircuits})() === 1");
        var own = (await context.CookiesAsync()).Single(c => c.Name == AffinityCookie).Value;
        await signedIn.EvaluateAsync("() => window.samePage = true");

        // What the circuit answers while it is connected: the cost of the smallest and the largest size the form offers,
        // worked out on the server.
        var sizes = await signedIn.Locator("#size:enabled").EvaluateAsync<string[]>("e => [...e.options].map(o => o.value)");
        var (small, large) = (sizes[0], sizes[^1]);
        var costs = new Dictionary<string, string>();
        foreach (var size in new[] { small, large })
        {
            costs[size] = await CostForAsync(signedIn, size, expected: null);
        }

        Assert.NotEqual(costs[small], costs[large]);

        // Six drops: with two instances and no affinity, a reconnect reaches the other one half the time, which does not
        // know the circuit and rejects it (the page would need a reload).
        for (var drop = 0; drop < 6; drop++)
        {
            await signedIn.EvaluateAsync("() => window.sockets.filter(s => s.url.includes('_blazor')).forEach(s => s.close())");
            await signedIn.WaitForFunctionAsync($"() => ({OpenCircuits})() === 1", null, new() { Timeout = 30_000 });
            var size = drop % 2 == 0 ? large : small;
            await CostForAsync(signedIn, size, costs[size]);
            await Assertions.Expect(signedIn.Locator(".components-reconnect-rejected, .components-reconnect-failed")).ToHaveCountAsync(0);
        }

        Assert.True(await signedIn.EvaluateAsync<bool>("() => window.samePage === true"), "the page was reloaded");
        Assert.Equal(own, (await context.CookiesAsync()).Single(c => c.Name == AffinityCookie).Value);

        // Enhanced navigation between pages keeps to it too, and the circuit still answers at the end.
        foreach (var (link, path) in new[] { ("#gallery-link", "/gallery"), ("#account-link", "/account"), ("a.brand", "/"), ("#models-link", "/models"), ("a.brand", "/") })
        {
            await signedIn.ClickAsync(link);
            await signedIn.WaitForURLAsync(new Uri(graph.GatewayAddress, path).ToString());
        }

        await CostForAsync(signedIn, large, costs[large]);
        Assert.True(await signedIn.EvaluateAsync<bool>("() => window.samePage === true"), "a navigation reloaded the page");
    }

    /// <summary>Picks a size on the home page's form and reads the cost the circuit shows for it.</summary>
    private static async Task<string> CostForAsync(IPage page, string size, string? expected)
    {
        await page.Locator("#size:enabled").SelectOptionAsync(size);

        var cost = page.Locator("#cost");
        if (expected is not null)
        {
            await Assertions.Expect(cost).ToHaveTextAsync(expected);
            return expected;
        }

        await page.WaitForFunctionAsync("() => /Costs \\d+ credit/.test(document.querySelector('#cost')?.textContent ?? '')");
        // The cost is worked out as the size changes: wait until it settles on this size's.
        await Task.Delay(300, Token);
        return (await cost.TextContentAsync())!.Trim();
    }
}
