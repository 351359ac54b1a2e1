using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>What operators see: the per-quest debug view, behind the admin role, with no secret in it or in the logs.</summary>
[Collection(ExclusiveGraphCollection.Name)]
public sealed partial class OperatorTests(GraphFixture graph) : IAsyncLifetime
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await graph.TakeAloneAsync(Token);

    public ValueTask DisposeAsync()
    {
        GraphFixture.ReleaseAlone();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task The_debug_view_shows_every_attempt_of_a_retried_call_with_status_retry_reason_circuit_and_what_was_sent()
    {
        await SetFaultAsync("openai", "RateLimited");
        using var user = await graph.CreateUserAsync(Token);
        QuestDto quest;
        try
        {
            quest = await graph.SubmitAndWaitAsync(user, new { prompt = "a harbour at dawn", model = "gpt-image-1.5", quality = "low" }, Token);
        }
        finally
        {
            await SetFaultAsync("openai", "Healthy");
        }

        Assert.Equal(ErrorCodes.RateLimited, quest.Error?.Code);
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);

        Assert.Equal(user.Email, debug!.OwnerEmail);
        Assert.Equal(quest.Id, debug.Quest.Id);
        Assert.Equal([QuestStepKinds.Started, QuestStepKinds.ProviderCall, QuestStepKinds.RetryWait, QuestStepKinds.ProviderCall, QuestStepKinds.RetryWait,
            QuestStepKinds.ProviderCall, QuestStepKinds.Ended], debug.Timeline.Select(s => s.Kind));
        var calls = debug.Timeline.Where(s => s.Kind == QuestStepKinds.ProviderCall).ToList();
        Assert.Equal([1, 2, 3], calls.Select(c => c.Attempt ?? 0));
        Assert.All(calls, c =>
        {
            Assert.Equal(429, c.HttpStatus);
            Assert.Equal(ErrorCodes.RateLimited, c.Code);
            Assert.Equal("closed", c.Circuit);
            Assert.NotNull(c.DurationMs);
            // The parameters as OpenAI received them, in its own names.
            Assert.Equal("gpt-image-1.5", (string?)c.Sent?["model"]);
            Assert.Equal("low", (string?)c.Sent?["quality"]);
            Assert.Equal("1024x1024", (string?)c.Sent?["size"]);
        });
        // The simulator asks for 1 s; the waits honour it.
        Assert.All(debug.Timeline.Where(s => s.Kind == QuestStepKinds.RetryWait), w =>
        {
            Assert.Equal(ErrorCodes.RateLimited, w.Code);
            Assert.InRange(w.DurationMs ?? 0, 900, 1100);
            Assert.Contains("HTTP 429", w.Detail);
        });
        var ended = debug.Timeline[^1];
        Assert.Equal((ErrorCodes.RateLimited, "Failed"), (ended.Code, ended.Detail));
        Assert.True(debug.Timeline.Zip(debug.Timeline.Skip(1)).All(p => p.First.At <= p.Second.At), "the timeline is in order");

        // Its credits: reserved, then released; and the trace that ties api, stream, worker and provider together.
        Assert.Equal([(CreditEntryKind.Reserve, -2), (CreditEntryKind.Release, 2)], debug.Credits.Select(c => (c.Kind, c.Amount)));
        Assert.Matches("^[0-9a-f]{32}$", debug.TraceId);
    }

    [Fact]
    public async Task A_successful_local_quest_has_its_run_render_storage_and_end_on_the_timeline()
    {
        using var user = await graph.CreateUserAsync(Token);
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a quiet pond", model = "local-sketch", width = 256, height = 256, seed = 7 }, Token);

        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);

        Assert.Equal([QuestStepKinds.Started, QuestStepKinds.ProviderCall, QuestStepKinds.Stored, QuestStepKinds.Ended], debug!.Timeline.Select(s => s.Kind));
        Assert.All(debug.Timeline, s => Assert.Equal(1, s.Run));
        var render = debug.Timeline[1];
        Assert.Equal((256, 256, 7L), ((int)render.Sent!["width"]!, (int)render.Sent!["height"]!, (long)render.Sent!["seed"]!));
        Assert.InRange(render.DurationMs ?? -1, 0, 60_000);
        Assert.Equal("Succeeded", debug.Timeline[^1].Detail);
        Assert.Equal([(CreditEntryKind.Reserve, -1), (CreditEntryKind.Capture, 0)], debug.Credits.Select(c => (c.Kind, c.Amount)));
    }

    [Fact]
    public async Task Stats_count_the_window_by_model_with_generation_percentiles_errors_credits_and_a_series()
    {
        using var user = await graph.CreateUserAsync(Token);
        var before = await graph.Admin.Client.GetFromJsonAsync<OperationsStatsDto>("/api/admin/stats?window=1h", GraphFixture.Json, Token);
        var done = await graph.CreateAndWaitAsync(user, new { prompt = "a counted pond", model = "local-sketch", width = 64, height = 64 }, Token);
        var after = await graph.Admin.Client.GetFromJsonAsync<OperationsStatsDto>("/api/admin/stats?window=1h", GraphFixture.Json, Token);

        static ModelStatsDto? Local(OperationsStatsDto? s) => s!.Models.FirstOrDefault(m => m.Model == "local-sketch");
        Assert.Equal((Local(before)?.Succeeded ?? 0) + 1, Local(after)!.Succeeded);
        Assert.Equal("Local", Local(after)!.Provider);
        Assert.NotNull(Local(after)!.P50Ms);
        Assert.True(Local(after)!.P95Ms >= Local(after)!.P50Ms);
        Assert.Equal(24, after!.Series.Count);
        Assert.Equal(after.Models.Sum(m => m.Succeeded), after.Series.Sum(b => b.Succeeded));
        Assert.Contains(after.Credits, c => c.Kind == "reserve" && c.Amount < 0);
        Assert.Equal("1h", after.Window);
        Assert.Equal(QuestStatus.Succeeded, done.Status);

        using var bad = await graph.Admin.Client.GetAsync("/api/admin/stats?window=7y", Token);
        await ProblemAssert.IsProblemAsync(bad, HttpStatusCode.BadRequest, ErrorCodes.InvalidValue, "window");
    }

    [Fact]
    public async Task The_services_export_quest_provider_credit_hub_and_image_metrics_with_their_tags()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        await graph.CreateAndWaitAsync(user, new { prompt = "a measured hill", model = "local-sketch", width = 64, height = 64 }, Token);
        await SetFaultAsync("openai", "Moderation");
        try
        {
            var refused = await graph.SubmitAndWaitAsync(user, new { prompt = "something forbidden", model = "gpt-image-1.5", quality = "low" }, Token);
            Assert.Equal(ErrorCodes.Moderated, refused.Error?.Code);
        }
        finally
        {
            await SetFaultAsync("openai", "Healthy");
        }

        (string Name, (string Key, string Value)[] Tags)[] expected =
        [
            ("imagegen.quests.submitted", [("imagegen.model", "gpt-image-1.5"), ("imagegen.provider", "openai")]),
            ("imagegen.quests.ended", [("imagegen.model", "local-sketch"), ("imagegen.provider", "local"), ("imagegen.quest.status", "succeeded")]),
            ("imagegen.quests.ended", [("imagegen.model", "gpt-image-1.5"), ("imagegen.quest.status", "failed"), ("error.type", ErrorCodes.Moderated)]),
            ("imagegen.quest.generation.duration", [("imagegen.model", "local-sketch"), ("imagegen.quest.status", "succeeded")]),
            ("imagegen.quest.queue.duration", [("imagegen.model", "gpt-image-1.5"), ("imagegen.provider", "openai")]),
            ("imagegen.provider.calls", [("imagegen.provider", "openai"), ("error.type", ErrorCodes.Moderated)]),
            ("imagegen.credits", [("imagegen.credit.kind", "reserved")]),
            ("imagegen.credits", [("imagegen.credit.kind", "captured")]),
            ("imagegen.credits", [("imagegen.credit.kind", "released")]),
            ("imagegen.images.stored", []),
            ("imagegen.images.stored.size", []),
            ("imagegen.hub.connections", []),
        ];
        string[] gauges = ["imagegen.queue.depth", "imagegen.queue.pending"];

        bool Seen((string Name, (string Key, string Value)[] Tags) metric) => graph.Telemetry.Points.Any(p =>
            p.Name == metric.Name && p.Value > 0 && metric.Tags.All(t => p.Tags.TryGetValue(t.Key, out var v) && v == t.Value));

        // Exported every 5 s; bounded wait for the next exports (a loaded machine delays them).
        var until = DateTimeOffset.UtcNow.AddSeconds(45);
        bool GaugesSeen() => gauges.All(g => graph.Telemetry.Points.Any(p => p.Name == g));
        while (!(expected.All(Seen) && GaugesSeen()) && DateTimeOffset.UtcNow < until)
        {
            await Task.Delay(500, Token);
        }

        Assert.Empty(expected.Where(m => !Seen(m)).Select(m => $"{m.Name} {string.Join(",", m.Tags.Select(t => $"{t.Key}={t.Value}"))}"));
        // The queue gauges are read from Redis by every worker (zero is a fine value when the queue is empty).
        Assert.All(gauges, g => Assert.Contains(graph.Telemetry.Points, p => p.Name == g && p.Value >= 0));
        // The moderated call carries the provider's HTTP status.
        Assert.Contains(graph.Telemetry.Points, p => p.Name == "imagegen.provider.calls" && p.Tags.GetValueOrDefault("error.type") == ErrorCodes.Moderated
            && p.Tags.ContainsKey("http.response.status_code"));
    }

    [Fact]
    public async Task Debug_of_an_unknown_or_malformed_quest_is_404()
    {
        using var unknown = await graph.Admin.Client.GetAsync($"/api/admin/quests/{Guid.NewGuid()}/debug", Token);
        await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.NotFound, ErrorCodes.QuestNotFound);
        using var malformed = await graph.Admin.Client.GetAsync("/api/admin/quests/not-a-quest/debug", Token);
        await ProblemAssert.IsProblemAsync(malformed, HttpStatusCode.NotFound, ErrorCodes.QuestNotFound);
    }

    public static TheoryData<string, string> AdminRoutes => new()
    {
        { "GET", "/api/admin/users?email=a" },
        { "POST", $"/api/admin/users/{Guid.NewGuid()}/credits" },
        { "GET", "/api/admin/dead-letters" },
        { "POST", "/api/admin/dead-letters/1-1/redrive" },
        { "GET", $"/api/admin/quests/{Guid.NewGuid()}/debug" },
        { "GET", "/api/admin/alerts" },
        { "GET", "/api/admin/stats" },
        { "GET", $"/api/admin/users/{Guid.NewGuid()}/quests" },
    };

    [Theory]
    [MemberData(nameof(AdminRoutes))]
    public async Task Ordinary_users_get_403_and_strangers_401_on_every_admin_route(string method, string path)
    {
        using var user = await graph.CreateUserAsync(Token);
        using var asUser = await user.Client.SendAsync(Request(method, path), Token);
        await ProblemAssert.IsProblemAsync(asUser, HttpStatusCode.Forbidden, "forbidden");
        using var anonymous = await graph.Gateway.SendAsync(Request(method, path), Token);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
        {
            Content = method == "POST" ? JsonContent.Create(new { kind = "grant", amount = 5, reason = "test" }) : null,
        };
    }

    [Fact]
    public async Task No_secret_appears_in_a_debug_view_or_in_any_log_line_of_the_run()
    {
        using var user = await graph.CreateUserAsync(Token);
        var quests = new[]
        {
            await graph.CreateAndWaitAsync(user, new { prompt = "a red door", model = "gpt-image-1.5", quality = "low" }, Token),
            await graph.CreateAndWaitAsync(user, new { prompt = "a blue door", model = "flux-pro-1.1", width = 256, height = 256 }, Token),
        };
        var secrets = new Dictionary<string, string>
        {
            ["OpenAI key"] = "simulator-openai-key",
            ["BFL key"] = "simulator-bfl-key",
            ["image signing key"] = "test-signing-key-0123456789abcdef",
            ["admin password"] = GraphFixture.AdminPassword,
            ["user password"] = GraphFixture.UserPassword,
            ["access token"] = user.AccessToken,
            ["refresh token"] = user.RefreshToken,
        };

        foreach (var quest in quests)
        {
            var debug = await graph.Admin.Client.GetStringAsync($"/api/admin/quests/{quest.Id}/debug", Token);
            Assert.Contains(QuestStepKinds.ProviderCall, debug);
            foreach (var (name, secret) in secrets)
            {
                Assert.False(debug.Contains(secret, StringComparison.Ordinal), $"the debug view of {quest.Model} holds the {name}");
            }
        }

        // Each stage is logged with the quest, its owner and the model (console output reaches the fixture within moments).
        var questId = quests[0].Id.ToString();
        string[] stages = ["queued on gpt-image-1.5", "started on gpt-image-1.5", "call 1 took", "stored 1 image(s)", "charged", "succeeded on gpt-image-1.5"];
        bool Logged(string stage) => graph.LogLines.Any(l => l.Contains(questId, StringComparison.Ordinal)
            && l.Contains(user.Id.ToString(), StringComparison.Ordinal) && l.Contains(stage, StringComparison.Ordinal));
        var until = DateTimeOffset.UtcNow.AddSeconds(15);
        while (!stages.All(Logged) && DateTimeOffset.UtcNow < until)
        {
            await Task.Delay(250, Token);
        }

        Assert.Equal([], stages.Where(stage => !Logged(stage)));
        var logs = graph.LogLines.ToList();
        foreach (var (name, secret) in secrets)
        {
            Assert.DoesNotContain(logs, l => l.Contains(secret, StringComparison.Ordinal));
        }

        // Prompts stay out of the logs at Information level too.
        Assert.DoesNotContain(logs, l => l.Contains("a red door", StringComparison.Ordinal));
    }

    private async Task SetFaultAsync(string provider, string profile)
    {
        using var response = await graph.Simulator.PutAsJsonAsync($"/admin/faults/{provider}", new { profile, retryAfterSeconds = 1 }, Token);
        response.EnsureSuccessStatusCode();
    }
}
