using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

/// <summary>
/// No local-disk coupling: host B's worker runs what host A's API accepted and host A serves its image; host B's
/// worker killed mid-quest, host A's finishes it, with one charge.
/// </summary>
[Collection(TwoHostCollection.Name)]
public sealed class TwoHostTests(TwoHostGraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Parallel_sign_ups_from_one_address_through_two_gateways_open_exactly_the_cap()
    {
        var address = GraphFixture.FreshLoopbackAddress();
        using var viaA = graph.ClientFrom(address);
        using var viaB = graph.ClientFrom(address, graph.GatewayB.Address);
        // Both gateways route to the API before the race (a just-started gateway may answer 502 until it has), and
        // take a POST through their sign-in limit in Redis, from another address so the race's allowance stays whole:
        // once in CI, a just-started second gateway answered its first five sign-ups 500.
        foreach (var client in new[] { viaA, viaB })
        {
            await Eventually.TrueAsync(async () => (await client.GetAsync("/api/models", Token)).IsSuccessStatusCode, TimeSpan.FromSeconds(30));
        }

        var warmAddress = GraphFixture.FreshLoopbackAddress();
        foreach (var gateway in new[] { graph.GatewayAddress, graph.GatewayB.Address })
        {
            using var warm = graph.ClientFrom(warmAddress, gateway);
            await Eventually.TrueAsync(async () =>
            {
                using var login = await warm.PostAsJsonAsync("/api/auth/login", new { email = $"nobody-{Guid.NewGuid():N}@graph.test", password = "not-the-password" }, Token);
                return login.StatusCode == HttpStatusCode.Unauthorized;
            }, TimeSpan.FromSeconds(30));
        }

        var attempts = Enumerable.Range(0, 10).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? viaA : viaB).PostAsJsonAsync("/api/auth/register",
                new { email = $"two-gateways-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
            return (response.StatusCode, Body: (int)response.StatusCode >= 500 ? await response.Content.ReadAsStringAsync(Token) : "");
        });

        var answers = await Task.WhenAll(attempts);
        var statuses = answers.Select(a => a.StatusCode).ToList();

        var seen = string.Join(", ", answers.Select((a, i) => $"{(i % 2 == 0 ? "A" : "B")}:{(int)a.StatusCode}{(a.Body.Length > 0 ? $" {a.Body[..Math.Min(300, a.Body.Length)]}" : "")}"))
            + (answers.Any(a => a.Body.Length > 0) ? $"\ngateway B's last output:\n{string.Join('\n', graph.GatewayB.RecentOutput)}" : "");
        Assert.True(statuses.Count(s => s == HttpStatusCode.Created) == TwoHostGraphFixture.SignupsPerDay, seen);
        Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) == 10 - TwoHostGraphFixture.SignupsPerDay, seen);
    }

    [Fact]
    public async Task A_quest_submitted_to_host_A_runs_on_host_B_and_its_image_loads_through_host_A()
    {
        await graph.StartWorkerBAsync();
        using var user = await graph.CreateUserAsync(Token);
        QuestDto quest;
        // Host A's worker paused: only host B's can take the quest.
        using (Pause(await graph.WorkerAAsync()))
        {
            quest = await graph.CreateAndWaitAsync(user, new { prompt = "made elsewhere", model = "local-sketch", width = 512, height = 512 }, Token);
        }

        Assert.Equal([graph.WorkerB.Id], await ClaimedByAsync(quest.Id));
        var image = Assert.Single(quest.Images);
        using var browser = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var original = await browser.GetAsync(image.Url, Token))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        }

        // A variant through host A's API (made there from the object host B's worker wrote), then from the store.
        using (var variant = await browser.GetAsync(new Uri(graph.GatewayAddress, image.Variants.Single(v => v.Width == 256).Url), Token))
        {
            Assert.Equal(HttpStatusCode.OK, variant.StatusCode);
            Assert.Equal(256, SKCodec.Create(new MemoryStream(await variant.Content.ReadAsByteArrayAsync(Token)))!.Info.Width);
        }

        // Host B's API answers for the same quest from the same database, and neither host kept a file of its own.
        using var apiB = new HttpClient { BaseAddress = graph.ApiB.Address };
        apiB.DefaultRequestHeaders.Authorization = new("Bearer", user.AccessToken);
        Assert.Equal(QuestStatus.Succeeded, (await apiB.GetFromJsonAsync<QuestDto>($"/api/quests/{quest.Id}", GraphFixture.Json, Token))!.Status);
        Assert.Empty(graph.WorkerB.FilesWritten());
        Assert.Empty(graph.ApiB.FilesWritten());
    }

    [Fact]
    public async Task Host_B_worker_killed_mid_quest_host_A_finishes_it_and_charges_once()
    {
        await graph.StartWorkerBAsync();
        using var user = await graph.CreateUserAsync(Token);
        Guid questId;
        using (Pause(await graph.WorkerAAsync()))
        {
            using var response = await user.Client.PostAsJsonAsync("/api/quests",
                new { prompt = "interrupted", model = "local-sketch", width = 1024, height = 1024 }, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            questId = (await graph.ReadAsync<QuestDto>(response, Token)).Id;

            // Painting on host B, then host B's worker dies.
            await Eventually.TrueAsync(async () => (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{questId}", GraphFixture.Json, Token))!.Progress > 0);
            graph.WorkerB.Kill();
        }

        var quest = await graph.WaitForEndAsync(user, questId, Token);
        Assert.Equal(QuestStatus.Succeeded, quest.Status);
        // Host B claimed it (again, if a loaded machine let its short lease lapse before the kill), host A finished it.
        var claims = await ClaimedByAsync(questId);
        var workerA = await graph.WorkerAAsync();
        var timeline = $"claims {string.Join(", ", claims)}; timeline:\n{await TimelineAsync(questId)}";
        Assert.True(claims.Count >= 2 && claims[^1] == workerA && claims[..^1].All(id => id == graph.WorkerB.Id), timeline);
        using var browser = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var original = await browser.GetAsync(Assert.Single(quest.Images).Url, Token))
        {
            Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        }

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Single(credits!.Entries, e => e.Kind == CreditEntryKind.Capture);
        Assert.Equal(100 - quest.Cost, credits.Balance);
    }

    [Fact]
    public async Task A_provider_account_limit_of_three_holds_across_both_workers_and_a_dead_workers_slots_come_back_within_the_lease()
    {
        await graph.StartWorkerBAsync();
        using var redis = await graph.ConnectRedisAsync();
        var slots = redis.GetDatabase();
        const string key = "providers:slots:BlackForestLabs";
        var users = new[] { await graph.CreateUserAsync(Token), await graph.CreateUserAsync(Token) };
        var quest = new { prompt = "a kite held by two workers", model = "flux-2-klein-4b", width = 256, height = 256 };
        await SetBflAsync(new { profile = "Slow", latencyMs = 1200 });
        (await graph.Simulator.PostAsync("/admin/stats/reset", null, Token)).Dispose();
        try
        {
            // Six quests, three per user, on two workers: never more than the account's 3 jobs at BFL at once.
            var held = new List<long>();
            var running = Task.WhenAll(Enumerable.Range(0, 6).Select(i => graph.SubmitAndWaitAsync(users[i % 2], quest, Token)));
            while (!running.IsCompleted)
            {
                held.Add(await slots.SortedSetLengthAsync(key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), double.PositiveInfinity));
                await Task.Delay(100, Token);
            }

            Assert.All(await running, q => Assert.Equal(QuestStatus.Succeeded, q.Status));
            var peak = (await graph.Simulator.GetFromJsonAsync<Dictionary<string, int>>("/admin/stats", Token))!.GetValueOrDefault("bfl.inFlight.peak");
            Assert.True(peak == 3 && held.Max() == 3, $"jobs in flight at BFL at most {peak}, slots held at most {held.Max()}");
            var claims = (await Task.WhenAll((await running).Select(q => ClaimedByAsync(q.Id)))).SelectMany(c => c).Distinct().ToList();
            Assert.True(claims.Count == 2, $"claimed by {string.Join(", ", claims)}");

            // Host B takes three slots while host A is stopped; then B dies holding them. They come back when their
            // leases end (4 s here), without anyone returning them.
            var pending = new List<Task<QuestDto>>();
            using (Pause(await graph.WorkerAAsync()))
            {
                pending.AddRange(Enumerable.Range(0, 3).Select(i => graph.SubmitAndWaitAsync(users[i % 2], quest, Token)));
                await Eventually.TrueAsync(async () => await HeldByAsync(slots, key, graph.WorkerB.Id) == 3, TimeSpan.FromSeconds(20));
                graph.WorkerB.Kill();
            }

            var killed = System.Diagnostics.Stopwatch.StartNew();
            await Eventually.TrueAsync(async () => await HeldByAsync(slots, key, graph.WorkerB.Id) == 0, TimeSpan.FromSeconds(15));
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(4 + 3), $"the dead worker's slots came back after {killed.Elapsed.TotalSeconds:0.0} s");
            // Host A runs the three again, with the slots host B had.
            Assert.All(await Task.WhenAll(pending), q => Assert.Equal(QuestStatus.Succeeded, q.Status));
        }
        finally
        {
            await SetBflAsync(new { profile = "Healthy" });
            foreach (var user in users)
            {
                user.Dispose();
            }

            // Host B's worker stays down: a test that needs it starts it first (a new process costs a start).
        }
    }

    private async Task SetBflAsync(object fault)
    {
        using var response = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", fault, Token);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Slots whose leases a worker process holds now.</summary>
    private static async Task<int> HeldByAsync(StackExchange.Redis.IDatabase redis, string key, int pid) =>
        (await redis.SortedSetRangeByScoreAsync(key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), double.PositiveInfinity))
            .Count(m => m.ToString().Split(':') is [_, var holder, _] && holder == pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The worker process ids that claimed the quest, in order (the debug view's claim steps name them).</summary>
    private async Task<List<int>> ClaimedByAsync(Guid questId)
    {
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{questId}/debug", GraphFixture.Json, Token);
        return [.. debug!.Timeline.Where(s => s.Kind == QuestStepKinds.Started).Select(s => int.Parse(s.Detail!.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture))];
    }

    private async Task<string> TimelineAsync(Guid questId)
    {
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{questId}/debug", GraphFixture.Json, Token);
        return string.Join("\n", debug!.Timeline.Select(s => $"{s.At:HH:mm:ss.fff} {s.Kind} {s.Detail}"));
    }

    /// <summary>Stops a process (SIGSTOP) until disposed (SIGCONT).</summary>
    private static IDisposable Pause(int pid)
    {
        Signal("-STOP", pid);
        return new Resume(pid);
    }

    private sealed class Resume(int pid) : IDisposable
    {
        public void Dispose() => Signal("-CONT", pid);
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit(5000);
    }
}
