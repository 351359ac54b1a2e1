using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>Debian's Chromium driven by Playwright, headless. No browser download: the system binary is used.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = MachinePackages.ChromiumPath;

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            // MachinePackages installs it before any test runs, or says why it could not.
            throw new InvalidOperationException($"Browser tests need Chromium at {ChromiumPath}: sudo apt-get install -y chromium");
        }

        // Assertions wait as long as actions do: a loaded CI machine renders slower than a laptop.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = 30_000,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
            ],
        });
    }

    /// <summary>
    /// A fresh browser context on the graph's gateway, signed in through the sign-in form; <paramref name="initScript"/>
    /// runs in every page before the page's own scripts.
    /// </summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignInAsync(Uri gateway, string email, string password, string? initScript = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = gateway.ToString(), AcceptDownloads = true });
        context.SetDefaultTimeout(30_000);
        if (initScript is not null)
        {
            await context.AddInitScriptAsync(initScript);
        }

        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#submit");
        await Assertions.Expect(page.Locator("#account-link")).ToHaveTextAsync(email);
        return (context, page);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
