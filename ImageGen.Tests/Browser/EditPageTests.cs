using System.Net.Http.Json;
using ImageGen.Core.Quests;
using ImageGen.Tests.Graph;
using Microsoft.Playwright;

namespace ImageGen.Tests.Browser;

/// <summary>
/// "Edit" from the gallery: paint a mask with the mouse, describe the change, see the cost, create, watch it, and get
/// the result beside the original; the quest remembers the image and the mask; "edit the result" goes on from there.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class EditPageTests(GraphFixture graph, BrowserFixture browser)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Painting_a_mask_and_creating_edits_the_picture_and_the_result_can_be_edited_again()
    {
        using var user = await graph.CreateUserAsync(Token);
        var original = await graph.CreateAndWaitAsync(user, new { prompt = "a calm lake", model = "local-sketch", width = 256, height = 256 }, Token);
        var (context, page) = await browser.SignInAsync(graph.GatewayAddress, user.Email, user.Password);
        await using var _ = context;

        await page.GotoAsync("/gallery");
        await page.ClickAsync($".tile[data-image-id='{original.Images[0].Id}']:enabled");
        await page.ClickAsync("#edit");
        await page.WaitForURLAsync($"**/edit/{original.Images[0].Id}");
        await Assertions.Expect(page.Locator("#edit-cost")).ToContainTextAsync("Costs 1 credits");

        // Paint a stroke across the left part of the picture.
        // The painter marks the canvas once it takes strokes (after the page turns interactive): a stroke before that
        // would be lost, as a person's would.
        var canvas = page.Locator("#mask-canvas[data-ready]");
        await Assertions.Expect(canvas).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#edit-create")).ToBeDisabledAsync();
        var box = (await canvas.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.1f), box.Y + (box.Height * 0.2f));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + (box.Width * 0.2f), box.Y + (box.Height * 0.8f), new MouseMoveOptions { Steps = 8 });
        await page.Mouse.UpAsync();

        await page.FillAsync("#edit-prompt", "a storm over the lake");
        await page.ClickAsync("#edit-create");
        var result = page.Locator("#edit-result-image");
        await Assertions.Expect(result).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 60_000 });

        var quests = (await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items;
        var edit = quests.First(q => q.Prompt == "a storm over the lake");
        Assert.Equal(QuestStatus.Succeeded, edit.Status);
        Assert.Equal([original.Images[0].Id], edit.Parameters.Images);
        Assert.NotNull(edit.Parameters.Mask);
        Assert.Equal((256, 256), (edit.Width, edit.Height));

        // "Edit the result" goes on from the new picture.
        await Assertions.Expect(page.Locator("#edit-again")).ToHaveAttributeAsync("href", $"/edit/{edit.Images[0].Id}");

        // The gallery says what the edit was made from.
        await page.GotoAsync("/gallery");
        await page.ClickAsync($".tile[data-image-id='{edit.Images[0].Id}']:enabled");
        await Assertions.Expect(page.Locator("#viewer-lineage")).ToContainTextAsync(original.Images[0].Id.ToString()[..8]);
        await Assertions.Expect(page.Locator("#viewer-lineage")).ToContainTextAsync("with a mask");

        await page.GotoAsync($"/edit/{edit.Images[0].Id}");
        await Assertions.Expect(page.Locator("#edit-source")).ToBeVisibleAsync();
    }
}
