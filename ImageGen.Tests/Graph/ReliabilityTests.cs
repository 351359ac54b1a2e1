using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Graph;

/// <summary>Nothing lost, nothing charged twice: cancel, idempotent submit, a killed worker, a flushed Redis.</summary>
[Collection(ExclusiveGraphCollection.Name)]
public sealed class ReliabilityTests(GraphFixture graph) : IAsyncLifetime
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await graph.TakeAloneAsync(Token);

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var response = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile = "Healthy" }, Token);
        }
        finally
        {
            GraphFixture.ReleaseAlone();
        }
    }

    [Fact]
    public async Task Cancelling_a_queued_quest_is_free_and_a_running_one_the_provider_accepted_is_charged_what_it_bills()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var slow = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile = "Slow", latencyMs = 60_000 }, Token);

        // More slow jobs than the workers have slots: the last ones wait in the queue.
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"slow {i}", model = "flux-pro-1.1", width = 256, height = 256 }, Token);
            ids.Add((await graph.ReadAsync<QuestDto>(response, Token)).Id);
        }

        await Eventually.TrueAsync(async () => (await StatusesAsync(user, ids)).Count(s => s == QuestStatus.Running) >= 4);
        var queued = ids[^1];
        Assert.Equal(QuestStatus.Queued, (await GetAsync(user, queued)).Status);

        using (var cancelQueued = await user.Client.PostAsync($"/api/quests/{queued}/cancel", null, Token))
        {
            Assert.Equal(HttpStatusCode.OK, cancelQueued.StatusCode);
            var cancelled = await graph.ReadAsync<QuestDto>(cancelQueued, Token);
            Assert.Equal((QuestStatus.Cancelled, ErrorCodes.Cancelled), (cancelled.Status, cancelled.Error?.Code));
        }

        var running = (await Task.WhenAll(ids.Select(id => GetAsync(user, id)))).First(q => q.Status == QuestStatus.Running).Id;
        // Before the person confirms, the quest says what a cancel costs now: BFL accepted the job, and bills it.
        await Eventually.TrueAsync(async () => (await GetAsync(user, running)).CancelCharge > 0);
        using (var cancelRunning = await user.Client.PostAsync($"/api/quests/{running}/cancel", null, Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancelRunning.StatusCode);
        }

        var ended = await graph.WaitForEndAsync(user, running, Token);
        Assert.Equal((QuestStatus.Cancelled, ErrorCodes.Cancelled), (ended.Status, ended.Error?.Code));
        // BFL accepted the job before the cancel (it was polling), and BFL bills it: so does ImageGen, and says so.
        Assert.Contains("provider had accepted it", ended.Error!.Message, StringComparison.Ordinal);

        // Cancel the rest, and wait for every quest to end: all cancelled; the queued ones free, the accepted ones charged.
        foreach (var id in ids)
        {
            using var _ = await user.Client.PostAsync($"/api/quests/{id}/cancel", null, Token);
        }

        foreach (var id in ids)
        {
            Assert.Equal(QuestStatus.Cancelled, (await graph.WaitForEndAsync(user, id, Token)).Status);
        }

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits?limit=200", GraphFixture.Json, Token);
        var reserved = credits!.Entries.Where(e => e.Kind == CreditEntryKind.Reserve).ToDictionary(e => e.QuestId!.Value, e => -e.Amount);
        var captures = credits.Entries.Where(e => e.Kind == CreditEntryKind.Capture).ToList();
        var releases = credits.Entries.Where(e => e.Kind == CreditEntryKind.Release).ToList();
        Assert.Equal(12, captures.Count + releases.Count);
        Assert.Contains(releases, e => e.QuestId == queued);
        Assert.Contains(captures, e => e.QuestId == running);
        Assert.InRange(captures.Count, 1, 11);
        var charged = captures.Sum(e => reserved[e.QuestId!.Value] - e.Amount);
        Assert.True(charged > 0);
        Assert.Equal(100 - charged, credits.Balance);

        // A finished quest cannot be cancelled; someone else's does not exist.
        using var again = await user.Client.PostAsync($"/api/quests/{queued}/cancel", null, Token);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict, ErrorCodes.QuestFinished);
        using var stranger = await graph.CreateUserAsync(Token);
        using var notYours = await stranger.Client.PostAsync($"/api/quests/{running}/cancel", null, Token);
        await ProblemAssert.IsProblemAsync(notYours, HttpStatusCode.NotFound, ErrorCodes.QuestNotFound);
    }

    [Fact]
    public async Task One_users_many_quests_cannot_hold_every_worker_while_another_users_quest_waits()
    {
        using var busy = await graph.CreateUserAsync(Token);
        using var other = await graph.CreateUserAsync(Token);
        using var slow = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile = "Slow", latencyMs = 60_000 }, Token);

        // More minute-long jobs than the two workers have slots (4 each).
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await busy.Client.PostAsJsonAsync("/api/quests", new { prompt = $"hog {i}", model = "flux-pro-1.1", width = 256, height = 256 }, Token);
            ids.Add((await graph.ReadAsync<QuestDto>(response, Token)).Id);
        }

        try
        {
            await Eventually.TrueAsync(async () => (await StatusesAsync(busy, ids)).Count(s => s == QuestStatus.Running) >= 4);

            // The other user's one quest starts at once, not after the hog's minute-long jobs.
            var quest = await graph.CreateAndWaitAsync(other, new { prompt = "my turn", model = "local-sketch", width = 64, height = 64 }, Token);
            // (Without fairness it would wait for a hog's job to end, a minute; the bound leaves room for a busy machine.)
            Assert.True(quest.StartedAt - quest.CreatedAt < TimeSpan.FromSeconds(20), $"it waited {quest.StartedAt - quest.CreatedAt} to start");

            // And the hog never had more running than one user may.
            Assert.InRange((await StatusesAsync(busy, ids)).Count(s => s == QuestStatus.Running), 1, 4);
        }
        finally
        {
            foreach (var id in ids)
            {
                using var _ = await busy.Client.PostAsync($"/api/quests/{id}/cancel", null, Token);
            }
        }
    }

    [Fact]
    public async Task Cancelling_reaches_a_running_quest_even_after_duplicate_stream_entries_of_it_were_delivered()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var slow = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile = "Slow", latencyMs = 60_000 }, Token);
        using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "twice in the queue", model = "flux-pro-1.1", width = 256, height = 256 }, Token);
        var id = (await graph.ReadAsync<QuestDto>(response, Token)).Id;
        await Eventually.TrueAsync(async () => (await GetAsync(user, id)).Status == QuestStatus.Running);

        // Extra entries of the running quest, as the reconciler adds for a quest that waited long: both workers read
        // some, so the one running it reads one too. None may start it again, and none may unhook its cancel.
        await using var redis = await graph.ConnectRedisAsync();
        var stream = redis.GetDatabase();
        var duplicates = new List<StackExchange.Redis.RedisValue>();
        for (var i = 0; i < 6; i++)
        {
            duplicates.Add(await stream.StreamAddAsync(QueueNames.QuestStream, QueueNames.Fields.QuestId, id.ToString()));
        }

        // Read and acknowledged (an acknowledged entry is deleted).
        await Eventually.TrueAsync(async () =>
        {
            foreach (var entry in duplicates)
            {
                if ((await stream.StreamRangeAsync(QueueNames.QuestStream, entry, entry)).Length > 0)
                {
                    return false;
                }
            }

            return true;
        });
        using (var cancel = await user.Client.PostAsync($"/api/quests/{id}/cancel", null, Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        // Well before the quest's 60 s deadline.
        using var soon = CancellationTokenSource.CreateLinkedTokenSource(Token);
        soon.CancelAfter(TimeSpan.FromSeconds(20));
        var ended = await graph.WaitForEndAsync(user, id, soon.Token);
        Assert.Equal((QuestStatus.Cancelled, ErrorCodes.Cancelled), (ended.Status, ended.Error?.Code));
        await using var db = await graph.ConnectDatabaseAsync();
        Assert.Equal(1, await db.Quests.Where(q => q.Id == id).Select(q => q.Attempts).SingleAsync(Token));
    }

    [Fact]
    public async Task The_same_idempotency_key_and_body_returns_the_original_quest_and_charges_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        var body = new { prompt = "one and only", model = "local-sketch", width = 64, height = 64, seed = 1 };

        var replies = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/quests") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "order-42");
            using var response = await user.Client.SendAsync(request, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return await graph.ReadAsync<QuestDto>(response, Token);
        }));

        Assert.Single(replies.Select(r => r.Id).Distinct());
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Single(credits!.Entries, e => e.Kind == CreditEntryKind.Reserve);

        using var different = new HttpRequestMessage(HttpMethod.Post, "/api/quests") { Content = JsonContent.Create(body with { prompt = "something else" }) };
        different.Headers.Add("Idempotency-Key", "order-42");
        using var refused = await user.Client.SendAsync(different, Token);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);

        // Keys are per user: another user's same key is a new quest.
        using var other = await graph.CreateUserAsync(Token);
        using var theirs = new HttpRequestMessage(HttpMethod.Post, "/api/quests") { Content = JsonContent.Create(body) };
        theirs.Headers.Add("Idempotency-Key", "order-42");
        using var theirResponse = await other.Client.SendAsync(theirs, Token);
        Assert.NotEqual(replies[0].Id, (await graph.ReadAsync<QuestDto>(theirResponse, Token)).Id);
    }

    [Fact]
    public async Task Killing_a_worker_mid_run_loses_no_quest_and_charges_each_once()
    {
        // Two users of eight quests each fill both workers' slots (four each; a user runs at most four at once), so the
        // killed worker holds some when it dies; more quests would only wait longer behind the per-user limit.
        const int perUser = 8;
        using var first = await graph.CreateUserAsync(Token);
        using var second = await graph.CreateUserAsync(Token);
        var sent = new List<(TestUser User, Guid Id)>();
        for (var i = 0; i < perUser; i++)
        {
            foreach (var user in new[] { first, second })
            {
                using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"survivor {i}", model = "local-sketch", width = 64, height = 64 }, Token);
                sent.Add((user, (await graph.ReadAsync<QuestDto>(response, Token)).Id));
            }
        }

        // Five running: more than one worker's four, so each worker holds at least one.
        await Eventually.TrueAsync(async () => (await Task.WhenAll(sent.Select(s => GetAsync(s.User, s.Id)))).Count(q => q.Status == QuestStatus.Running) >= 5);
        var workers = await graph.WorkerProcessIdsAsync();
        Assert.Equal(2, workers.Count);
        Process.GetProcessById(workers[0]).Kill();

        var ends = new List<QuestDto>();
        try
        {
            foreach (var (user, id) in sent)
            {
                ends.Add(await graph.WaitForEndAsync(user, id, Token));
            }
        }
        finally
        {
            // The tests after this one count on both workers.
            await graph.RestartKilledWorkerAsync(Token);
        }

        Assert.All(ends, q => Assert.Equal(QuestStatus.Succeeded, q.Status));
        Assert.All(ends, q => Assert.Single(q.Images));
        foreach (var user in new[] { first, second })
        {
            // None duplicated: one image each, and the user's list holds exactly those.
            var listed = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests?limit=100", GraphFixture.Json, Token);
            Assert.Equal(perUser, listed!.Items.Select(q => q.Id).Distinct().Count());
            var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits?limit=200", GraphFixture.Json, Token);
            Assert.Equal(100 - perUser, credits!.Balance);
            Assert.Equal(perUser, credits.Entries.Count(e => e.Kind == CreditEntryKind.Capture));
            Assert.Equal(perUser, credits.Entries.Count(e => e.Kind == CreditEntryKind.Reserve));
            Assert.Equal(perUser, credits.Entries.Select(e => e.QuestId).Where(q => q is not null).Distinct().Count());
        }
    }

    [Fact]
    public async Task When_redis_loses_its_data_every_quest_still_ends_because_postgres_is_the_truth()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var redis = await graph.ConnectRedisAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"amnesia {i}", model = "local-sketch", width = 64, height = 64 }, Token);
            ids.Add((await graph.ReadAsync<QuestDto>(response, Token)).Id);
        }

        // The stream, the consumer group and every pending entry are gone, as after a restart without persistence.
        await redis.GetServers()[0].FlushAllDatabasesAsync();

        foreach (var id in ids)
        {
            Assert.Equal(QuestStatus.Succeeded, (await graph.WaitForEndAsync(user, id, Token)).Status);
        }

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits?limit=200", GraphFixture.Json, Token);
        Assert.Equal(90, credits!.Balance);
        Assert.Equal(10, credits.Entries.Count(e => e.Kind == CreditEntryKind.Capture));
    }

    private async Task<QuestDto> GetAsync(TestUser user, Guid id) =>
        (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{id}", GraphFixture.Json, Token))!;

    private async Task<List<QuestStatus>> StatusesAsync(TestUser user, IEnumerable<Guid> ids) =>
        [.. (await Task.WhenAll(ids.Select(id => GetAsync(user, id)))).Select(q => q.Status)];
}
