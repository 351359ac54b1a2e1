using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Providers;
using ImageGen.Core.Quests;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The production adapters (the official OpenAI SDK, the BFL protocol) against the provider simulator, one test per
/// fault profile: the right terminal state and message, credits back, retries only where allowed.
/// </summary>
[Collection(ExclusiveGraphCollection.Name)]
public sealed class ProviderTests(GraphFixture graph) : IAsyncLifetime
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await graph.TakeAloneAsync(Token);
        try
        {
            await SetFaultAsync("openai", "Healthy");
            await SetFaultAsync("bfl", "Healthy");
            using var reset = await graph.Simulator.PostAsync("/admin/stats/reset", null, Token);
        }
        catch
        {
            GraphFixture.ReleaseAlone();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SetFaultAsync("openai", "Healthy");
            await SetFaultAsync("bfl", "Healthy");
        }
        finally
        {
            GraphFixture.ReleaseAlone();
        }
    }

    [Fact]
    public async Task Gpt_image_through_the_official_sdk_streams_a_preview_frame_succeeds_and_bills_from_usage()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var events = new EventRecorder(hub);

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a paper boat", model = "gpt-image-1.5", quality = "low", size = "1024x1024", outputFormat = "jpeg" }, Token);

        // OpenAI's partial image arrives as the quest's preview frame (WebP, 256 px), before the image.
        await events.Terminal(GraphFixture.QuestTimeout, Token);
        var frame = Assert.Single(events.Events, e => e.Preview is not null);
        using (var preview = SKBitmap.Decode(Convert.FromBase64String(frame.Preview!["data:image/webp;base64,".Length..])))
        {
            Assert.Equal((256, 256), (preview.Width, preview.Height));
        }

        var image = Assert.Single(quest.Images);
        Assert.Equal(("image/jpeg", 1024, 1024), (image.ContentType, image.Width, image.Height));
        using var bitmap = SKBitmap.Decode(await graph.Gateway.GetByteArrayAsync(image.Url, Token));
        Assert.Equal(1024, bitmap.Width);
        Assert.Equal(1, await CountAsync("openai.generations"));
        // low 1024x1024 = 272 output tokens, and 100 for the partial image, at $40 per million = 1.49 cents: 2 credits,
        // reserved and charged.
        await AssertBalanceAsync(user, 98, (CreditEntryKind.Reserve, -2), (CreditEntryKind.Capture, 0));
    }

    [Fact]
    public async Task Flux_through_the_bfl_protocol_relays_progress_and_stores_the_sample()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var events = new EventRecorder(hub);

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a red fox in snow", model = "flux-pro-1.1", width = 256, height = 256, seed = 3 }, Token);

        var image = Assert.Single(quest.Images);
        Assert.Equal(("image/jpeg", 256, 256), (image.ContentType, image.Width, image.Height));
        await events.Terminal(GraphFixture.QuestTimeout, Token);
        Assert.Contains(events.Events, e => e.Status == QuestStatus.Running && e.StatusText!.Contains("is painting", StringComparison.Ordinal));
        Assert.Equal(1, await CountAsync("bfl.submit"));
        Assert.Equal(1, await CountAsync("bfl.download"));
        await AssertBalanceAsync(user, 96, (CreditEntryKind.Reserve, -4), (CreditEntryKind.Capture, 0));
    }

    [Fact]
    public async Task A_rate_limited_provider_is_retried_honouring_retry_after_then_the_quest_fails_and_costs_nothing()
    {
        await SetFaultAsync("openai", "RateLimited");
        using var user = await graph.CreateUserAsync(Token);

        var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "anything", model = "gpt-image-1.5", quality = "low" }, Token);

        Assert.Equal((QuestStatus.Failed, ErrorCodes.RateLimited), (quest.Status, quest.Error?.Code));
        Assert.Equal(3, await CountAsync("openai.generations"));
        await AssertBalanceAsync(user, 100, (CreditEntryKind.Reserve, -2), (CreditEntryKind.Release, 2));
    }

    [Fact]
    public async Task A_moderated_prompt_fails_once_with_advice_and_is_never_retried_or_charged()
    {
        await SetFaultAsync("openai", "Moderation");
        using var user = await graph.CreateUserAsync(Token);

        var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "something forbidden", model = "gpt-image-1.5", quality = "low" }, Token);

        Assert.Equal((QuestStatus.Failed, ErrorCodes.Moderated), (quest.Status, quest.Error?.Code));
        Assert.Contains("Rephrase", quest.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync("openai.generations"));
        await AssertBalanceAsync(user, 100, (CreditEntryKind.Reserve, -2), (CreditEntryKind.Release, 2));
    }

    [Fact]
    public async Task Bfl_moderation_depends_on_safety_tolerance_and_the_advice_says_so()
    {
        await SetFaultAsync("bfl", "Moderation");
        using var user = await graph.CreateUserAsync(Token);

        var strict = await graph.SubmitAndWaitAsync(user, new { prompt = "a forbidden garden", model = "flux-pro-1.1", width = 256, height = 256, safetyTolerance = 2 }, Token);
        Assert.Equal((QuestStatus.Failed, ErrorCodes.Moderated), (strict.Status, strict.Error?.Code));
        Assert.Contains("safety tolerance", strict.Error!.Message, StringComparison.Ordinal);

        var lenient = await graph.SubmitAndWaitAsync(user, new { prompt = "a forbidden garden", model = "flux-pro-1.1", width = 256, height = 256, safetyTolerance = 5 }, Token);
        Assert.Equal(QuestStatus.Succeeded, lenient.Status);
        Assert.Equal(2, await CountAsync("bfl.submit"));
    }

    [Fact]
    public async Task A_bfl_submit_that_fails_with_5xx_is_never_sent_again()
    {
        await SetFaultAsync("bfl", "Flaky", failureRate: 1.0);
        using var user = await graph.CreateUserAsync(Token);

        var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "a lighthouse", model = "flux-pro-1.1", width = 256, height = 256 }, Token);

        Assert.Equal((QuestStatus.Failed, ErrorCodes.ProviderUnavailable), (quest.Status, quest.Error?.Code));
        Assert.Equal(1, await CountAsync("bfl.submit"));
        await AssertBalanceAsync(user, 100, (CreditEntryKind.Reserve, -4), (CreditEntryKind.Release, 4));
        await RecoverAsync("bfl", user);
    }

    [Fact]
    public async Task An_expired_bfl_task_fails_with_result_expired_and_is_not_resubmitted()
    {
        await SetFaultAsync("bfl", "Expired");
        using var user = await graph.CreateUserAsync(Token);

        var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "a lighthouse", model = "flux-dev", width = 256, height = 256 }, Token);

        Assert.Equal((QuestStatus.Failed, ErrorCodes.ResultExpired), (quest.Status, quest.Error?.Code));
        Assert.Equal(1, await CountAsync("bfl.submit"));
    }

    [Fact]
    public async Task An_outage_opens_the_circuit_which_fails_fast_and_closes_again_after_recovery()
    {
        await SetFaultAsync("openai", "Outage");
        using var user = await graph.CreateUserAsync(Token);
        var request = new { prompt = "a city at night", model = "gpt-image-1-mini", quality = "low" };

        // Three attempts, all 503: retried (safe for OpenAI), then the circuit opens at the threshold.
        var first = await graph.SubmitAndWaitAsync(user, request, Token);
        Assert.Equal((QuestStatus.Failed, ErrorCodes.ProviderUnavailable), (first.Status, first.Error?.Code));
        Assert.Equal(3, await CountAsync("openai.generations"));
        var providers = await user.Client.GetFromJsonAsync<List<ProviderHealthDto>>("/api/providers", GraphFixture.Json, Token);
        Assert.Equal(CircuitState.Open, providers!.Single(p => p.Provider == Core.Catalog.ModelProvider.OpenAI).Circuit);

        // While open: fails fast, nothing reaches the provider.
        var fast = await graph.SubmitAndWaitAsync(user, request, Token);
        Assert.Equal(ErrorCodes.ProviderUnavailable, fast.Error?.Code);
        Assert.Equal(3, await CountAsync("openai.generations"));

        // A quest naming a fallback runs on it instead, is charged what the fallback cost (not the dearer hold), and its
        // timeline says why; OpenAI is still not called.
        var fellBack = await graph.SubmitAndWaitAsync(user, new { prompt = "a city at night", model = "gpt-image-1-mini", fallbacks = new[] { "flux-2-klein-4b" } }, Token);
        Assert.Equal((QuestStatus.Succeeded, "flux-2-klein-4b", "gpt-image-1-mini"), (fellBack.Status, fellBack.Model, fellBack.RequestedModel));
        Assert.Equal(4, fellBack.Cost);
        Assert.Equal(98, (await user.Client.GetFromJsonAsync<Core.Accounts.CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
        Assert.Equal(3, await CountAsync("openai.generations"));
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{fellBack.Id}/debug", GraphFixture.Json, Token);
        var step = Assert.Single(debug!.Timeline, s => s.Kind == QuestStepKinds.Fallback);
        Assert.Contains("GPT Image 1 mini", step.Detail, StringComparison.Ordinal);
        Assert.Contains("flux-2-klein-4b", step.Detail, StringComparison.Ordinal);

        // The account's default fallbacks do the same for a quest that names none, tried in order: gpt-image-1.5 is
        // OpenAI's too (its circuit is open: not sent), so FLUX.2 klein makes it.
        using (var refused = await user.Client.PutAsJsonAsync("/api/account/fallbacks", new { models = new[] { "gpt-image-1", "flux-dev" } }, Token))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, ErrorCodes.ModelRetired, "models");
        }

        using (var set = await user.Client.PutAsJsonAsync("/api/account/fallbacks", new { models = new[] { "gpt-image-1.5", "flux-2-klein-4b" } }, Token))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var byDefault = await graph.SubmitAndWaitAsync(user, new { prompt = "a city at dawn", model = "gpt-image-1-mini" }, Token);
        Assert.Equal((QuestStatus.Succeeded, "flux-2-klein-4b", "gpt-image-1-mini"), (byDefault.Status, byDefault.Model, byDefault.RequestedModel));
        Assert.Equal(["gpt-image-1.5", "flux-2-klein-4b"], byDefault.Parameters.Fallbacks!.Select(f => f.Model));
        Assert.Equal(3, await CountAsync("openai.generations"));

        // Turned off, a quest that names none fails fast as before.
        (await user.Client.PutAsJsonAsync("/api/account/fallbacks", new { models = Array.Empty<string>() }, Token)).Dispose();
        Assert.Empty((await user.Client.GetFromJsonAsync<Core.Accounts.FallbackSettingsDto>("/api/account/fallbacks", GraphFixture.Json, Token))!.Models!);
        Assert.Equal(ErrorCodes.ProviderUnavailable, (await graph.SubmitAndWaitAsync(user, request, Token)).Error?.Code);

        // Healthy again: after the break, a probe goes through and closes the circuit.
        await SetFaultAsync("openai", "Healthy");
        await Task.Delay(TimeSpan.FromSeconds(3.5), Token);
        var recovered = await graph.SubmitAndWaitAsync(user, request, Token);
        Assert.Equal(QuestStatus.Succeeded, recovered.Status);
        providers = await user.Client.GetFromJsonAsync<List<ProviderHealthDto>>("/api/providers", GraphFixture.Json, Token);
        Assert.Equal(("healthy", CircuitState.Closed), providers!.Single(p => p.Provider == Core.Catalog.ModelProvider.OpenAI) is var h ? (h.Status, h.Circuit) : default);
    }

    [Fact]
    public async Task Failures_on_every_worker_add_up_so_the_circuit_opens_at_the_threshold_fleet_wide()
    {
        await SetFaultAsync("bfl", "Outage");
        using var user = await graph.CreateUserAsync(Token);
        var before = await CountAsync("bfl.submit");

        // Five quests, one after another, land on either of the two workers. The threshold (3 in this graph) counts
        // them all: once three submits failed, wherever they ran, the rest fail fast. Each worker counted its own before,
        // so two workers could take 2 x 3 failures and more.
        for (var i = 0; i < 5; i++)
        {
            var quest = await graph.SubmitAndWaitAsync(user, new { prompt = $"outage {i}", model = "flux-pro-1.1", width = 256, height = 256 }, Token);
            Assert.Equal(ErrorCodes.ProviderUnavailable, quest.Error?.Code);
        }

        Assert.Equal(3, await CountAsync("bfl.submit") - before);

        await Task.Delay(TimeSpan.FromSeconds(3.5), Token);
        await RecoverAsync("bfl", user);
    }

    [Fact]
    public async Task Each_provider_is_asked_whether_it_answers_from_the_start_with_calls_that_cost_nothing()
    {
        // A worker asks BFL for its credit balance, OpenAI for its model list and midjourney-proxy for its queue (never
        // a generation), at start and then on a schedule (every 5 s in this graph; the counts were reset when this
        // test began).
        var generations = (await CountAsync("bfl.submit"), await CountAsync("openai.generations"), await CountAsync("midjourney.imagine"));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        while (await CountAsync("bfl.credits") < 1 || await CountAsync("openai.models") < 1 || await CountAsync("midjourney.queue") < 1)
        {
            await Task.Delay(200, deadline.Token);
        }

        Assert.Equal(generations, (await CountAsync("bfl.submit"), await CountAsync("openai.generations"), await CountAsync("midjourney.imagine")));
        using var user = await graph.CreateUserAsync(Token);
        List<ProviderHealthDto>? providers = null;
        await Eventually.TrueAsync(async () =>
        {
            providers = await user.Client.GetFromJsonAsync<List<ProviderHealthDto>>("/api/providers", GraphFixture.Json, Token);
            return providers!.All(p => p.Status == "healthy");
        }, TimeSpan.FromSeconds(10));
        // BFL's balance, as its credits call answered, is kept for the monitoring page.
        Assert.Equal(1000m, providers!.Single(p => p.Provider == Core.Catalog.ModelProvider.BlackForestLabs).Balance);
    }

    /// <summary>Ends a failure test with a success, so no failure count carries over into the next test's circuit.</summary>
    private async Task RecoverAsync(string provider, TestUser user)
    {
        await SetFaultAsync(provider, "Healthy");
        var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "back to normal", model = "flux-pro-1.1", width = 256, height = 256 }, Token);
        Assert.Equal(QuestStatus.Succeeded, quest.Status);
    }

    [Fact]
    public async Task A_gpt_image_quest_cancelled_after_its_request_reached_openai_is_charged_what_openai_bills()
    {
        using var user = await graph.CreateUserAsync(Token);
        await SetFaultAsync("openai", "Slow", latencyMs: 8000);
        using var submitted = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a slow boat", model = "gpt-image-1.5", quality = "low", size = "1024x1024" }, Token);
        var quest = await graph.ReadAsync<QuestDto>(submitted, Token);

        // Once the request is with OpenAI (the billing point is on the quest's timeline), the owner cancels.
        await using (var db = await graph.ConnectDatabaseAsync())
        {
            await Eventually.TrueAsync(async () => await db.Quests.AsNoTracking().AnyAsync(q => q.Id == quest.Id && q.BillableSince != null, Token),
                TimeSpan.FromSeconds(20));
        }

        using (var cancel = await user.Client.PostAsync($"/api/quests/{quest.Id}/cancel", null, Token))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var ended = await graph.WaitForEndAsync(user, quest.Id, Token);
        Assert.Equal(QuestStatus.Cancelled, ended.Status);
        Assert.Contains("provider bills", ended.Error!.Message, StringComparison.Ordinal);
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100 - quest.Cost, credits!.Balance);
    }

    private async Task SetFaultAsync(string provider, string profile, double failureRate = 0.5, int latencyMs = 3000)
    {
        using var response = await graph.Simulator.PutAsJsonAsync($"/admin/faults/{provider}", new { profile, failureRate, latencyMs, retryAfterSeconds = 1 }, Token);
        response.EnsureSuccessStatusCode();
    }

    private async Task<int> CountAsync(string what)
    {
        var stats = await graph.Simulator.GetFromJsonAsync<Dictionary<string, int>>("/admin/stats", Token);
        return stats!.GetValueOrDefault(what);
    }

    private static async Task AssertBalanceAsync(TestUser user, int balance, params (CreditEntryKind Kind, int Amount)[] questEntries)
    {
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(balance, credits!.Balance);
        Assert.Equal(0, credits.Reserved);
        Assert.Equal(questEntries, credits.Entries.Where(e => e.QuestId is not null).OrderBy(e => e.Id).Select(e => (e.Kind, e.Amount)));
    }
}
