using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The test graph runs two API instances behind one address (every other whole-graph test runs against both); these
/// tests check what only replicas can break: events reach connections held by either instance, and parallel requests
/// that land on different instances still charge once.
/// </summary>
public sealed class ReplicaTests(GraphFixture graph)
{
    private const int Connections = 10;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Quest_events_reach_hub_connections_on_every_api_instance()
    {
        Assert.Equal(2, (await graph.ApiProcessIdsAsync()).Count);
        using var user = await graph.CreateUserAsync(Token);
        var before = AcceptedConnectionsByProcess();

        var hubs = new List<HubConnection>();
        try
        {
            var recorders = new List<EventRecorder>();
            for (var i = 0; i < Connections; i++)
            {
                // Straight to the API's address: each socket is a new connection there, and the orchestrator's proxy
                // deals new connections out to the replicas. (Through the gateway, a socket may reuse one of the
                // gateway's pooled connections, all of which can lead to the same replica.)
                var hub = await graph.ConnectHubAsync(user, Token, graph.ApiAddress);
                hubs.Add(hub);
                recorders.Add(new EventRecorder(hub));
            }

            // Each instance exports its connection counts every 5 s: both must have taken some of these.
            var until = DateTimeOffset.UtcNow.AddSeconds(30);
            while (Gained(before) < 2 && DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(250, Token);
            }

            Assert.True(Gained(before) == 2, $"connections accepted per API process, before: {Describe(before)}; after: {Describe(AcceptedConnectionsByProcess())}");

            using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a lighthouse seen twice", model = "local-sketch", width = 64, height = 64 }, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var questId = (await graph.ReadAsync<QuestDto>(response, Token)).Id;

            foreach (var recorder in recorders)
            {
                var end = await recorder.Terminal(GraphFixture.QuestTimeout, Token);
                Assert.Equal((questId, QuestStatus.Succeeded), (end.QuestId, end.Status));
                // The instance that relayed the event signed its image link; the link opens without credentials.
                var url = Assert.Single(end.Quest!.Images).Url;
                using var image = await graph.Gateway.GetAsync(url, Token);
                Assert.Equal(HttpStatusCode.OK, image.StatusCode);
                // Progress came before the end, in order, on every connection: the end outranks every event, and the
                // run that ended it arrived in order (a run whose lease lapsed under load may have published too; clients
                // drop its events by their lower numbers, see QuestSequence).
                var steps = recorder.Events.Where(e => e.QuestId == questId).Select(e => e.Sequence).ToList();
                Assert.Equal(steps.Max(), end.Sequence);
                var endingRun = steps.Where(s => s / QuestSequence.RunSize == end.Sequence / QuestSequence.RunSize).ToList();
                Assert.Equal(endingRun.Order(), endingRun);
            }
        }
        finally
        {
            foreach (var hub in hubs)
            {
                await hub.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Parallel_submits_with_one_idempotency_key_across_instances_make_one_quest_and_one_charge()
    {
        using var user = await graph.CreateUserAsync(Token);
        var key = Guid.NewGuid().ToString("N");

        // Separate clients, so the requests arrive on separate connections and are spread over the instances.
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var client = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
            client.DefaultRequestHeaders.Authorization = user.Client.DefaultRequestHeaders.Authorization;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/quests")
            {
                Content = JsonContent.Create(new { prompt = "one of eight", model = "local-sketch", width = 64, height = 64 }),
                Headers = { { "Idempotency-Key", key } },
            };
            using var response = await client.SendAsync(request, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await graph.ReadAsync<QuestDto>(response, Token)).Id;
        }));

        var questId = Assert.Single(answers.Distinct());
        Assert.Equal(QuestStatus.Succeeded, (await graph.WaitForEndAsync(user, questId, Token)).Status);
        await using var db = await graph.ConnectDatabaseAsync();
        Assert.Equal(1, await db.Quests.CountAsync(q => q.UserId == user.Id, Token));
        var cost = await db.Quests.Where(q => q.Id == questId).Select(q => q.Cost).SingleAsync(Token);
        var balance = (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance;
        Assert.Equal(100 - cost, balance);
    }

    /// <summary>
    /// Hub connections each API process (instance and process id) has accepted so far: the ones open now plus the ones
    /// closed (both counts as last exported). It only grows, whatever other tests' connections do meanwhile.
    /// </summary>
    private Dictionary<(string Instance, string Process), double> AcceptedConnectionsByProcess() =>
        graph.Telemetry.Points
            .Where(p => p.Service == "api" && p.Name is "imagegen.hub.connections" or "imagegen.hub.disconnects")
            .GroupBy(p => (p.Instance, p.Process))
            .ToDictionary(g => g.Key, g => g
                .GroupBy(p => (p.Name, string.Join(",", p.Tags.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}"))))
                .Sum(series => series.Last().Value));

    private static string Describe(Dictionary<(string Instance, string Process), double> counts) =>
        string.Join(", ", counts.Select(c => $"{c.Key.Instance}/{c.Key.Process}={c.Value}"));

    /// <summary>How many API processes accepted connections since <paramref name="before"/>.</summary>
    private int Gained(Dictionary<(string Instance, string Process), double> before) =>
        AcceptedConnectionsByProcess().Count(now => now.Value > before.GetValueOrDefault(now.Key));
}
