using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>The account page's webhooks: set an endpoint, see the secret once, and see each delivery with the receiver's answer.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WebhookPageTests(GraphFixture graph, BrowserFixture browser) : IAsyncDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private readonly WebhookReceiver _receiver = new();

    [Fact]
    public async Task Setting_an_endpoint_shows_the_secret_once_and_the_deliveries_show_the_receivers_answers()
    {
        using var user = await graph.CreateUserAsync(Token);
        var (context, page) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
        await using var _ = context;
        await page.GotoAsync("/account");

        await page.FillAsync("#webhook-url", "http://10.0.0.1/hooks");
        await page.ClickAsync("#save-webhook");
        await Assertions.Expect(page.Locator("#webhooks .error")).ToContainTextAsync("not a public address");

        await page.FillAsync("#webhook-url", _receiver.Url);
        await page.ClickAsync("#save-webhook");
        var secret = page.Locator("#new-webhook-secret code");
        await Assertions.Expect(secret).ToContainTextAsync("whsec_");
        var shown = await secret.InnerTextAsync();

        _receiver.AnswerNext(500);
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a kite", model = "local-sketch", width = 128, height = 128 }, Token);
        var delivered = await _receiver.WaitForAsync(r => r.Status == 200, TimeSpan.FromSeconds(60), Token);
        Assert.True(delivered.SignedWith(shown), "signed with the secret the page showed");

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#new-webhook-secret")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#webhook-secret-hint")).ToContainTextAsync(shown[^4..]);
        var row = page.Locator($"#webhook-deliveries tr[data-delivery-id='{delivered.Id}']");
        await Assertions.Expect(row.Locator(".delivery-state")).ToHaveTextAsync("delivered");
        await Assertions.Expect(row.Locator(".delivery-answer")).ToHaveTextAsync("200");
        Assert.Contains(quest.Id.ToString()[..8], await row.InnerTextAsync(), StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => _receiver.DisposeAsync();
}
