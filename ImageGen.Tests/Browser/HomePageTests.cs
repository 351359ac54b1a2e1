using System.Net.Http.Json;
using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class HomePageTests(GraphFixture graph, BrowserFixture browser)
{
    private const float TimeoutMs = 30_000;

    private static LocatorAssertionsToBeVisibleOptions Visible => new() { Timeout = TimeoutMs };

    [Fact]
    public async Task A_person_signs_up_makes_an_image_and_sees_the_balance_drop_by_the_cost()
    {
        var (context, page, failures) = await OpenAsync();
        await using var _ = context;

        await SignUpAsync(page);
        await Assertions.Expect(page.Locator("#balance")).ToContainTextAsync("100");

        await page.FillAsync("#prompt", "a lighthouse on a cliff at night");
        await page.SelectOptionAsync("#size", "512x512");
        await Assertions.Expect(page.Locator("#cost")).ToContainTextAsync("Costs 1 credit");
        // Every line the status shows, each with the Recent line and the newest frame beside it at that moment,
        // recorded by the page as it changes: a line shown for a moment counts even when this test looks too late.
        await page.EvaluateAsync(StatusHistoryScript);
        // The button is enabled only once the circuit is interactive, so the click cannot be lost.
        await page.ClickAsync("#create:enabled");

        // The image itself, actually loaded at the chosen size, and the balance one credit lower.
        var image = page.Locator("section.current img.result");
        await Assertions.Expect(image).ToBeVisibleAsync(Visible);
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('section.current img.result'); return i && i.complete && i.naturalWidth > 0; }",
            null, new() { Timeout = TimeoutMs });
        Assert.Equal(512, await image.EvaluateAsync<int>(ImageProbe.PixelWidth));
        await Assertions.Expect(page.Locator("#status-text")).ToHaveTextAsync("Done.");
        await Assertions.Expect(page.Locator("#balance")).ToContainTextAsync("99");

        // It painted in view: the painter's status text showed, and while it did, its line in Recent never said
        // Queued (it did), and the picture formed above it (the latest preview frame painted in place).
        // A progress bar showed while it ran (checked from the record: on a busy machine the whole run can fall between two
        // looks of a polling assertion).
        var shown = (await page.EvaluateAsync<string[][]>("() => window.statusSeen")).Select(s => new StatusSeen(s[0], s[1], s[2], s[3] == "bar")).ToList();
        var painting = shown.Where(s => s.Status.Contains("Now painting", StringComparison.Ordinal)).ToList();
        var story = string.Join(" | ", shown.Select(s => $"{s.Status} / {s.Recent} / {s.Frame[..Math.Min(s.Frame.Length, 24)]} / {(s.Bar ? "bar" : "no bar")}"));
        Assert.True(painting.Count > 0, $"The status never said it was painting: {story}");
        Assert.True(painting.All(s => s.Bar), $"A painting line showed without its progress bar: {story}");
        Assert.All(painting, s => Assert.DoesNotContain("Queued", s.Recent, StringComparison.Ordinal));
        Assert.Contains(painting, s => s.Frame.StartsWith("data:image/webp;base64,", StringComparison.Ordinal));

        await Assertions.Expect(page.Locator(".recent li").First).ToContainTextAsync("a lighthouse on a cliff at night");
        Assert.Empty(failures);

        // The account page charts where the credit went (from the ledger), and takes default fallbacks.
        await page.GotoAsync("/account");
        await Assertions.Expect(page.Locator("#spend-chart-models g.row")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#spend-chart-models g.row")).ToContainTextAsync("local-sketch");
        await Assertions.Expect(page.Locator("#spend-chart-models g.row")).ToContainTextAsync("1 credit in 1 quest");
        await Assertions.Expect(page.Locator("#spend-chart-days g.row")).ToContainTextAsync(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await page.SelectOptionAsync("#fallback-0:enabled", "flux-2-klein-4b");
        await page.ClickAsync("#fallback-save");
        await Assertions.Expect(page.Locator("#fallback-note")).ToHaveTextAsync("Saved: flux-2-klein-4b.");

        // The browser holds a session cookie, never an API token.
        var cookies = await context.CookiesAsync();
        Assert.Contains(cookies, c => c.Name == "imagegen" && c.HttpOnly);
        var storage = await page.EvaluateAsync<string>("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie");
        Assert.DoesNotContain("CfDJ8", storage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changing_the_password_on_the_account_page_lists_the_keys_and_signs_everyone_out()
    {
        var (context, page, _) = await OpenAsync();
        await using var __ = context;
        var email = await SignUpAsync(page);
        await page.GotoAsync("/account");
        await page.FillAsync("#key-name", "laptop");
        await page.ClickAsync("#create-key:enabled");
        await Assertions.Expect(page.Locator("#new-key")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("#password label.check")).ToContainTextAsync("Keep my 1 API key working (laptop)");

        await page.FillAsync("#current-password", GraphFixture.UserPassword);
        await page.FillAsync("#new-password", "Changed-Passw0rd-9");
        await page.ClickAsync("#change-password:enabled");

        await Assertions.Expect(page.Locator("#form-notice")).ToContainTextAsync("new password is set", new() { Timeout = TimeoutMs });
        using var signedIn = await graph.LoginAsync(email, "Changed-Passw0rd-9", TestContext.Current.CancellationToken,
            graph.ClientFrom(GraphFixture.FreshLoopbackAddress()));
        Assert.Empty((await signedIn.Client.GetFromJsonAsync<List<ImageGen.Core.Accounts.ApiKeyDto>>("/api/keys", GraphFixture.Json, TestContext.Current.CancellationToken))!);
    }

    [Fact]
    public async Task A_bad_prompt_shows_the_reason_next_to_the_field()
    {
        var (context, page, _) = await OpenAsync();
        await using var __ = context;
        await SignUpAsync(page);

        await page.FillAsync("#prompt", "   ");
        await page.ClickAsync("#create:enabled");

        await Assertions.Expect(page.Locator(".field-error[data-field=prompt]")).ToContainTextAsync("Write a prompt");
        await Assertions.Expect(page.Locator("section.current")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Signing_in_with_a_wrong_password_says_so_and_signing_out_ends_the_session()
    {
        using var user = await graph.CreateUserAsync(TestContext.Current.CancellationToken);
        var (context, page, _) = await OpenAsync();
        await using var __ = context;

        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", user.Email);
        await page.FillAsync("#password", "Wrong-Passw0rd");
        await page.ClickAsync("#submit");
        await Assertions.Expect(page.Locator("#form-error")).ToContainTextAsync("wrong");

        await page.FillAsync("#password", GraphFixture.UserPassword);
        await page.ClickAsync("#submit");
        await Assertions.Expect(page.Locator("#account-link")).ToHaveTextAsync(user.Email);

        // The session's API tokens are on the server, sealed: what Redis holds reads as neither JSON nor a token.
        using (var redis = await graph.ConnectRedisAsync())
        {
            var server = redis.GetServers()[0];
            var stored = new List<string>();
            await foreach (var key in server.KeysAsync(pattern: "web:session:*"))
            {
                stored.Add((await redis.GetDatabase().StringGetAsync(key)).ToString());
            }

            Assert.NotEmpty(stored);
            Assert.All(stored, value =>
            {
                // Sealed bytes are random-looking base64, so a three-letter check ("eyJ", JSON's "{\"" encoded) matched by
                // chance about once in 150 runs: look for whole shapes instead. Identity's bearer tokens start "CfDJ8";
                // a JSON object in base64 is "eyJ" followed by its text and, in a JWT, a dot and a second "eyJ".
                Assert.DoesNotContain("Token", value, StringComparison.Ordinal);
                Assert.DoesNotContain("CfDJ8", value, StringComparison.Ordinal);
                Assert.DoesNotMatch(@"eyJ[A-Za-z0-9_-]{8,}\.eyJ", value);
                Assert.False(value.StartsWith('{'), value);
                Assert.False(value.StartsWith("eyJ", StringComparison.Ordinal), value);
            });
        }

        // Once the circuit is live (the composer's button is enabled only then), so its first render of the layout
        // cannot replace the form under the click.
        await page.Locator("#create:enabled").WaitForAsync(new() { Timeout = TimeoutMs });
        await page.ClickAsync("#sign-out");
        await page.WaitForURLAsync("**/account/login");
        await page.GotoAsync("/account");
        await page.WaitForURLAsync("**/account/login**");
    }

    /// <summary>One line the status showed, and what the Recent list, the preview and the progress bar showed with it.</summary>
    private sealed record StatusSeen(string Status, string Recent, string Frame, bool Bar);

    /// <summary>Records each new status line with the page around it, after every change the page makes.</summary>
    private const string StatusHistoryScript = """
        () => {
          window.statusSeen = [];
          const text = selector => document.querySelector(selector)?.textContent?.trim() ?? '';
          const record = () => {
            const status = text('#status-text');
            const [lastStatus, , lastFrame, lastBar] = window.statusSeen.at(-1) ?? [];
            const frame = document.querySelector('#preview img.newest')?.getAttribute('src') ?? '';
            const bar = document.querySelector('#progress') ? 'bar' : '';
            if (status && (status !== lastStatus || (frame && !lastFrame) || bar !== lastBar)) {
              window.statusSeen.push([status, text('.recent li'), frame, bar]);
            }
          };
          new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        }
        """;

    private async Task<(IBrowserContext Context, IPage Page, List<string> Failures)> OpenAsync()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = graph.GatewayAddress.ToString() });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        var failures = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                failures.Add($"{response.Status} {response.Url}");
            }
        };
        return (context, page, failures);
    }

    /// <summary>
    /// Signs up through the form, sees that the credits wait for the address, and opens the link from the mail the
    /// development mail server received, in the same browser: the credits arrive.
    /// </summary>
    private async Task<string> SignUpAsync(IPage page)
    {
        var email = $"browser-{Guid.NewGuid():N}@graph.test";
        await page.GotoAsync("/account/register");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", GraphFixture.UserPassword);
        await page.ClickAsync("#submit");
        await Assertions.Expect(page.Locator("#prompt")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("#verify-notice")).ToContainTextAsync(email, new() { Timeout = TimeoutMs });

        var link = await graph.Inbox.WaitForLinkAsync(email, "/account/verify-email", TestContext.Current.CancellationToken);
        // The link names the public address; the browser opens the same path on the graph's gateway.
        await page.GotoAsync(link.PathAndQuery);
        await Assertions.Expect(page.Locator("#verify-result")).ToContainTextAsync("free credits are in your account", new() { Timeout = TimeoutMs });
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("#prompt")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("#verify-notice")).ToHaveCountAsync(0);
        return email;
    }
}
