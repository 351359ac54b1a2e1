using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>The operator pages: monitoring with charts, a quest's debug timeline, users with a grant; closed to others.</summary>
[Collection(SecondBrowserCollection.Name)]
public sealed class AdminPagesTests(GraphFixture graph, BrowserFixture browser)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_operator_adds_a_webhook_alert_channel_sees_its_secret_once_and_a_test_arrives_signed()
    {
        await using var receiver = new WebhookReceiver();
        var (context, page) = await SignInAsync(GraphFixture.AdminEmail, GraphFixture.AdminPassword);
        await using var _ = context;

        await page.GotoAsync("/admin/alerts");
        await page.SelectOptionAsync("#channel-kind:enabled", "webhook");
        // Inside the network: refused by the same guard as quest webhooks.
        await page.FillAsync("#channel-target", "http://10.1.2.3/hook");
        await page.ClickAsync("#channel-add");
        await Assertions.Expect(page.Locator("#channel-error")).ToContainTextAsync("not a public address");

        await page.FillAsync("#channel-target", receiver.Url);
        await page.ClickAsync("#channel-add");
        var secret = await page.Locator("#channel-secret code").TextContentAsync();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var row = page.Locator("#channels tr[data-channel-id]").Filter(new() { HasText = receiver.Url });
        var id = await row.GetAttributeAsync("data-channel-id");
        try
        {
            await row.Locator("[data-action=test]").ClickAsync();
            var received = await receiver.WaitForAsync(_ => true, TimeSpan.FromSeconds(20), Token);
            Assert.True(received.SignedWith(secret!));
            // The page lists the message in its log (its outcome is checked at the API: AlertChannelTests).
            await page.ClickAsync("#deliveries-refresh");
            await Assertions.Expect(page.Locator("#alert-deliveries tr[data-delivery-id]").Filter(new() { HasText = receiver.Url }).First)
                .ToBeVisibleAsync(new() { Timeout = 30_000 });

            // Reloaded, the page no longer shows the secret.
            await page.ReloadAsync();
            await Assertions.Expect(page.Locator("#channel-secret")).ToHaveCountAsync(0);
        }
        finally
        {
            (await graph.Admin.Client.DeleteAsync($"/api/admin/alert-channels/{id}", Token)).Dispose();
        }
    }

    [Fact]
    public async Task An_operator_sees_charts_follows_a_quest_to_its_timeline_and_grants_credits()
    {
        using var user = await graph.CreateUserAsync(Token);
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "an observed lighthouse", model = "local-sketch", width = 64, height = 64 }, Token);
        var (context, page) = await SignInAsync(GraphFixture.AdminEmail, GraphFixture.AdminPassword);
        await using var _ = context;

        // The header offers operators the page; opened as a fresh load, its figures are in the first HTML.
        await Assertions.Expect(page.Locator("#admin-link")).ToHaveAttributeAsync("href", "/admin");
        await page.GotoAsync("/admin");
        // Success rate and generation time: a bar each for the model.
        await Assertions.Expect(page.Locator("#success svg.hbars g.row").Filter(new() { HasText = "local-sketch" })).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#series svg.series rect.bar").First).ToBeAttachedAsync();
        await Assertions.Expect(page.Locator("#providers tr[data-provider=OpenAI]")).ToContainTextAsync("Closed");
        await Assertions.Expect(page.Locator("#providers tr[data-provider=BlackForestLabs]")).ToHaveCountAsync(1);
        await page.ClickAsync("#window-24h:enabled");
        await Assertions.Expect(page.Locator("#window-24h.on")).ToHaveCountAsync(1);

        // The quest's own page.
        await Assertions.Expect(page.Locator("#quest-id")).ToBeVisibleAsync();
        await page.GotoAsync($"/admin/quests/{quest.Id}");
        await Assertions.Expect(page.Locator("#debug-status")).ToContainTextAsync("Succeeded");
        await Assertions.Expect(page.Locator("tr.step")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("tr.step[data-kind=provider_call]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#debug-sent")).ToContainTextAsync("\"width\": 64");
        await Assertions.Expect(page.Locator("#debug-trace")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("[0-9a-f]{32}"));

        // Users: find the owner, grant, and the balance and the ledger follow.
        await page.GotoAsync("/admin/users");
        await page.FillAsync("#user-search", user.Email);
        await page.ClickAsync("#user-search-go:enabled");
        await Assertions.Expect(page.Locator("#users tbody tr")).ToHaveCountAsync(1);
        await page.ClickAsync("#users .open-user");
        await Assertions.Expect(page.Locator("#user-detail")).ToContainTextAsync("an observed lighthouse");
        await page.FillAsync("#grant-amount", "25");
        await page.FillAsync("#grant-reason", "support ticket 42");
        await page.ClickAsync("#grant:enabled");
        await Assertions.Expect(page.Locator("#user-balance")).ToHaveTextAsync("124");
        var credits = await user.Client.GetStringAsync("/api/credits", Token);
        Assert.Contains("support ticket 42", credits);
    }

    [Fact]
    public async Task Someone_without_the_admin_role_gets_no_operator_link_and_no_operator_page()
    {
        using var user = await graph.CreateUserAsync(Token);
        var (context, page) = await SignInAsync(user.Email, user.Password);
        await using var _ = context;

        await Assertions.Expect(page.Locator("#admin-link")).ToHaveCountAsync(0);
        await page.GotoAsync("/admin");
        await Assertions.Expect(page.Locator("#not-allowed")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#alerts")).ToHaveCountAsync(0);
        await page.GotoAsync($"/admin/quests/{Guid.NewGuid()}");
        await Assertions.Expect(page.Locator("#not-allowed")).ToBeVisibleAsync();
    }

    private Task<(IBrowserContext Context, IPage Page)> SignInAsync(string email, string password) =>
        browser.SignInAsync(graph.GatewayAddress, email, password);
}
