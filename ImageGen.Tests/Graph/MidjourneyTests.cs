using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Midjourney through the midjourney-proxy protocol (the simulator speaks it): a grid forms with preview frames, then
/// U2 upscales one take and V3 varies another as follow-up quests linked to the grid, each charged its own price. A
/// follow-up of something that is not a grid, of another user's grid, or with an unknown action is refused, and a
/// refused prompt costs nothing.
/// </summary>
public sealed class MidjourneyTests(GraphFixture graph) : IAsyncLifetime
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(SetFaultAsync("Healthy"));

    public ValueTask DisposeAsync() => new(SetFaultAsync("Healthy"));

    [Fact]
    public async Task Flags_typed_into_the_prompt_that_change_the_bill_are_refused_on_every_surface_and_cost_nothing()
    {
        using var user = await graph.CreateUserAsync(Token);
        var before = (await user.Client.GetFromJsonAsync<MeDto>("/api/me", GraphFixture.Json, Token))!.Balance;

        using (var native = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a fox --repeat 40 --turbo", model = "midjourney" }, Token))
        {
            await ProblemAssert.IsProblemAsync(native, HttpStatusCode.BadRequest, ErrorCodes.UnsupportedParameter, "prompt");
            Assert.Contains("--repeat", await native.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        using (var openAi = await user.Client.PostAsJsonAsync("/v1/images/generations", new { prompt = "a fox --q 4", model = "midjourney" }, Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, openAi.StatusCode);
            Assert.Contains("--q", await openAi.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        Assert.Equal(before, (await user.Client.GetFromJsonAsync<MeDto>("/api/me", GraphFixture.Json, Token))!.Balance);
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Empty(quests!.Items);
    }

    [Fact]
    public async Task A_grid_forms_with_previews_then_U2_and_V3_follow_it_up_each_at_its_price()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var events = new EventRecorder(hub);

        var grid = await graph.CreateAndWaitAsync(user, new { prompt = "a lighthouse in fog", model = "midjourney", aspectRatio = "16:9", stylize = 250 }, Token);

        await events.Terminal(GraphFixture.QuestTimeout, Token);
        Assert.Contains(events.Events, e => e.QuestId == grid.Id && e.Preview is not null);
        using (var image = await DownloadAsync(grid))
        {
            // Four 16:9 takes in a 2x2.
            Assert.True(image.Width > image.Height, $"{image.Width}x{image.Height}");
        }

        var upscale = await graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id }, action = "U2" }, Token);
        var variation = await graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id }, action = "v3" }, Token);

        Assert.Equal(("a lighthouse in fog", "U2", 2), (upscale.Prompt, upscale.Parameters.Action, upscale.Cost));
        Assert.Equal(("V3", 8), (variation.Parameters.Action, variation.Cost));
        Assert.Equal([grid.Images[0].Id], upscale.Parameters.Images);
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100 - 8 - 2 - 8, credits!.Balance);

        // An upscale is a single take, not a grid: it cannot be upscaled again.
        using var again = await user.Client.PostAsJsonAsync("/api/quests", new { model = "midjourney", images = new[] { upscale.Images[0].Id }, action = "U1" }, Token);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.BadRequest, ErrorCodes.ActionNeedsGrid, "images");
    }

    [Fact]
    public async Task A_grid_rerolls_and_an_upscale_varies_zooms_out_and_pans_each_as_a_grid_at_its_price()
    {
        using var user = await graph.CreateUserAsync(Token);
        var grid = await graph.CreateAndWaitAsync(user, new { prompt = "a windmill at dusk", model = "midjourney" }, Token);
        var reroll = await graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id }, action = "reroll" }, Token);
        var upscale = await graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { reroll.Images[0].Id }, action = "U1" }, Token);
        Assert.Equal(("reroll", 8, "a windmill at dusk"), (reroll.Parameters.Action, reroll.Cost, reroll.Prompt));

        // Each of an upscale's follow-ups, side by side: a new grid, linked to the upscale, sent as the proxy's button.
        string[] actions = ["vary_subtle", "vary_strong", "zoom_out_2x", "zoom_out_1.5x", "pan_left", "pan_right", "pan_up", "pan_down"];
        var done = await Task.WhenAll(actions.Select(a => graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { upscale.Images[0].Id }, action = a }, Token)));
        foreach (var (action, quest) in actions.Zip(done))
        {
            Assert.Equal((QuestStatus.Succeeded, action, 8), (quest.Status, quest.Parameters.Action, quest.Cost));
            Assert.Equal([upscale.Images[0].Id], quest.Parameters.Images);
            var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);
            Assert.Equal(("/mj/submit/action", action), ((string?)debug!.Timeline.First(s => s.Kind == QuestStepKinds.ProviderCall).Sent?["endpoint"],
                (string?)debug.Timeline.First(s => s.Kind == QuestStepKinds.ProviderCall).Sent?["action"]));
        }

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100 - 8 - 8 - 2 - (8 * actions.Length), credits!.Balance);

        // Each starts from its own kind of picture: a grid's actions are refused on an upscale and the other way round.
        await RefusedAsync(user, new { model = "midjourney", images = new[] { upscale.Images[0].Id }, action = "reroll" }, ErrorCodes.ActionNeedsGrid, "images");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id }, action = "zoom_out_2x" }, ErrorCodes.ActionNeedsGrid, "images");
        Assert.Equal(100 - 8 - 8 - 2 - (8 * actions.Length), (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
    }

    [Fact]
    public async Task A_region_of_an_upscale_is_repainted_images_are_blended_and_one_is_described_each_at_its_price()
    {
        using var user = await graph.CreateUserAsync(Token);
        var sketchTask = graph.CreateAndWaitAsync(user, new { prompt = "a red barn", model = "local-sketch", width = 128, height = 128 }, Token);
        var grid = await graph.CreateAndWaitAsync(user, new { prompt = "a quiet harbour", model = "midjourney" }, Token);
        var upscale = await graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id }, action = "U1" }, Token);
        var sketch = await sketchTask;
        var (width, height) = (upscale.Images[0].Width, upscale.Images[0].Height);
        var mask = await EditTests.UploadAsync(user, EditTests.HalfTransparentMask(width, height));
        var upload = await EditTests.UploadAsync(user, EditTests.Solid(96, 64, SKColors.SteelBlue));

        // What is refused first, at no charge: a region without a mask or with one of another size; a blend of one
        // image, of six, of someone else's, or in a shape it has not; a description of two images.
        using (var other = await graph.CreateUserAsync(Token))
        {
            var theirs = await graph.CreateAndWaitAsync(other, new { prompt = "not yours", model = "local-sketch", width = 64, height = 64 }, Token);
            await RefusedAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id, theirs.Images[0].Id }, action = "blend" }, ErrorCodes.InputNotFound, "images");
        }

        var wrongSize = await EditTests.UploadAsync(user, EditTests.HalfTransparentMask(width / 2, height));
        await RefusedAsync(user, new { model = "midjourney", images = new[] { upscale.Images[0].Id }, action = "vary_region" }, ErrorCodes.Required, "mask");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { upscale.Images[0].Id }, mask = wrongSize, action = "vary_region" }, ErrorCodes.MaskSizeMismatch, "mask");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id }, mask, action = "vary_region" }, ErrorCodes.ActionNeedsGrid, "images");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id }, action = "blend" }, ErrorCodes.ValueOutOfRange, "images");
        await RefusedAsync(user, new { model = "midjourney", images = Enumerable.Repeat(sketch.Images[0].Id, 6).ToArray(), action = "blend" }, ErrorCodes.ValueOutOfRange, "images");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id, upload }, action = "blend", aspectRatio = "16:9" }, ErrorCodes.InvalidValue, "aspectRatio");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id, upload }, action = "describe" }, ErrorCodes.Required, "images");

        // A decompression bomb never becomes an image to describe: the upload is refused from its header.
        var bomb = new ByteArrayContent(Unit.UploadInspectorTests.WithSize(Unit.UploadInspectorTests.Png(64, 48), 50_000, 50_000));
        bomb.Headers.ContentType = new("image/png");
        using (var form = new MultipartFormDataContent { { bomb, "file", "bomb.png" } })
        using (var refused = await user.Client.PostAsync("/api/uploads", form, Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        Assert.Equal(100 - 8 - 2 - 1, (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);

        var made = await Task.WhenAll(
            graph.CreateAndWaitAsync(user, new { prompt = "a red door", model = "midjourney", images = new[] { upscale.Images[0].Id }, mask, action = "vary_region" }, Token),
            graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { grid.Images[0].Id, sketch.Images[0].Id, upload }, action = "blend", aspectRatio = "3:2" }, Token),
            graph.CreateAndWaitAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id }, action = "describe" }, Token));
        var (region, blend, described) = (made[0], made[1], made[2]);

        // The region: a grid at 8, from the upscale and the mask, sent as the proxy's button then its window.
        Assert.Equal((QuestStatus.Succeeded, "vary_region", 8, "a red door"), (region.Status, region.Parameters.Action, region.Cost, region.Prompt));
        Assert.Equal([upscale.Images[0].Id], region.Parameters.Images);
        Assert.Equal(mask, region.Parameters.Mask);
        var sent = (await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{region.Id}/debug", GraphFixture.Json, Token))!
            .Timeline.First(s => s.Kind == QuestStepKinds.ProviderCall).Sent;
        Assert.Equal(("/mj/submit/action", "/mj/submit/modal"), ((string?)sent?["endpoint"], (string?)sent?["then"]));

        // The blend: three images of the owner's (a grid, a sketch, an upload) into one landscape grid at 8.
        Assert.Equal((QuestStatus.Succeeded, 8, "A blend of 3 images"), (blend.Status, blend.Cost, blend.Prompt));
        Assert.True(blend.Images[0].Width > blend.Images[0].Height, $"{blend.Images[0].Width}x{blend.Images[0].Height}");

        // The description: four prompts, no image, at 2.
        Assert.Equal((QuestStatus.Succeeded, 2), (described.Status, described.Cost));
        Assert.Empty(described.Images);
        Assert.Equal(4, described.Descriptions!.Count);
        Assert.All(described.Descriptions, d => Assert.Contains("128x128", d, StringComparison.Ordinal));

        Assert.Equal(100 - 8 - 2 - 1 - 8 - 8 - 2, (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
    }

    [Fact]
    public async Task A_follow_up_of_what_is_not_a_grid_someone_elses_grid_or_an_unknown_action_is_refused()
    {
        using var owner = await graph.CreateUserAsync(Token);
        var theirs = await graph.CreateAndWaitAsync(owner, new { prompt = "a fox", model = "midjourney" }, Token);
        using var user = await graph.CreateUserAsync(Token);
        var sketch = await graph.CreateAndWaitAsync(user, new { prompt = "a hill", model = "local-sketch", width = 64, height = 64 }, Token);

        await RefusedAsync(user, new { model = "midjourney", images = new[] { theirs.Images[0].Id }, action = "U1" }, ErrorCodes.InputNotFound, "images");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id }, action = "U1" }, ErrorCodes.ActionNeedsGrid, "images");
        await RefusedAsync(user, new { model = "midjourney", images = new[] { sketch.Images[0].Id }, action = "U5" }, ErrorCodes.InvalidValue, "action");
        await RefusedAsync(user, new { prompt = "x", model = "midjourney", images = new[] { sketch.Images[0].Id } }, ErrorCodes.Required, "action");
        await RefusedAsync(user, new { prompt = "x", model = "local-sketch", action = "U1" }, ErrorCodes.UnsupportedParameter, "action");
        await RefusedAsync(user, new { prompt = "x", model = "midjourney", stylize = 5000 }, ErrorCodes.ValueOutOfRange, "stylize");
    }

    [Fact]
    public async Task A_banned_prompt_fails_as_moderated_and_costs_nothing()
    {
        using var user = await graph.CreateUserAsync(Token);
        await SetFaultAsync("Moderation");

        var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "something forbidden", model = "midjourney" }, Token);

        Assert.Equal((QuestStatus.Failed, ErrorCodes.Moderated), (quest.Status, quest.Error?.Code));
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100, credits!.Balance);
    }

    private static async Task RefusedAsync(TestUser user, object request, string code, string field)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/quests", request, Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, field);
    }

    private async Task<SKBitmap> DownloadAsync(QuestDto quest) => SKBitmap.Decode(await graph.Gateway.GetByteArrayAsync(quest.Images[0].Url, Token));

    private async Task SetFaultAsync(string profile)
    {
        using var response = await graph.Simulator.PutAsJsonAsync("/admin/faults/midjourney", new { profile, failureRate = 0.5, latencyMs = 3000, retryAfterSeconds = 1 }, Token);
        response.EnsureSuccessStatusCode();
    }
}
