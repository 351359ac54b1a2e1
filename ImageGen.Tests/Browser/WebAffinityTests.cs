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

        // What the circuit answers while it is connected: the cost of the size the form starts with, and of the size
        // furthest from it, worked out on the server (shown once the text moves off the first).
        var field = signedIn.Locator("#size:enabled");
        var sizes = await field.EvaluateAsync<string[]>("e => [...e.options].map(o => o.value)");
        var small = await field.InputValueAsync();
        var large = sizes[^1] == small ? sizes[0] : sizes[^1];
        var cost = signedIn.Locator("#cost");
        await Assertions.Expect(cost).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"Costs \d+ credit"));
        var costs = new Dictionary<string, string> { [small] = (await cost.TextContentAsync())!.Trim() };
        await field.SelectOptionAsync(large);
        await Assertions.Expect(cost).Not.ToHaveTextAsync(costs[small]);
        costs[large] = (await cost.TextContentAsync())!.Trim();

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

    [Fact]
    public async Task A_forged_missing_or_huge_affinity_cookie_only_sends_the_browser_to_some_instance()
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = graph.GatewayAddress };
        string[] values = ["", "not-a-destination", "0000000000000000", new string('f', 4000), "%00%0d%0aSet-Cookie:%20x=1", "..%2F..%2Fapi"];
        var answers = await Task.WhenAll(values.Concat(values).Select(async value =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/account/login");
            request.Headers.TryAddWithoutValidation("Cookie", $"{AffinityCookie}={value}");
            using var response = await client.SendAsync(request, Token);
            var issued = response.Headers.TryGetValues("Set-Cookie", out var set) ? set.FirstOrDefault(c => c.StartsWith(AffinityCookie + "=", StringComparison.Ordinal)) : null;
            return (value, response.StatusCode, issued);
        }));

        // Each is served by an instance of the pool, which the gateway names in a fresh cookie; none is refused or fails.
        Assert.All(answers, a => Assert.Equal(System.Net.HttpStatusCode.OK, a.StatusCode));
        Assert.All(answers, a => Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(AffinityCookie)}=[0-9a-f]{{16}};", a.issued ?? ""));
    }

    /// <summary>
    /// Picks a size on the home page's form and expects the cost the circuit showed for it before. A change made in the
    /// moment between the new socket opening and the circuit taking it up is not seen, so it is made again (a
    /// circuit that was lost never answers, however often).
    /// </summary>
    private static async Task CostForAsync(IPage page, string size, string expected)
    {
        var field = page.Locator("#size:enabled");
        for (var attempt = 1; ; attempt++)
        {
            await field.SelectOptionAsync(size);
            try
            {
                await Assertions.Expect(page.Locator("#cost")).ToHaveTextAsync(expected, new() { Timeout = attempt < 5 ? 3_000 : 30_000 });
                return;
            }
            catch (PlaywrightException) when (attempt < 5)
            {
                // Away and back, so the next pick is a change.
                var other = await field.EvaluateAsync<string>("(e, size) => [...e.options].map(o => o.value).find(v => v !== size)", size);
                await field.SelectOptionAsync(other);
            }
        }
    }
}
