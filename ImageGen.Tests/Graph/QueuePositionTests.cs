using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>While a quest waits, its reader sees how many wait before it, and when it should start.</summary>
public sealed class QueuePositionTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_waiting_quest_says_how_many_are_ahead_and_stops_saying_it_once_it_runs()
    {
        using var user = await graph.CreateUserAsync(Token);
        // A user runs at most 4 quests at once (each takes 8 steps of 150 ms here): of 12 sent together, at least the
        // 8 beyond those wait, the latest behind at least three of its owner's own.
        var sent = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"a queue of boats {i}", model = "local-sketch", width = 64, height = 64 }, Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<QuestDto>(GraphFixture.Json, Token))!;
        }));

        var reads = await Task.WhenAll(sent.Select(q => user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{q.Id}", GraphFixture.Json, Token)));
        var last = reads.Where(q => q!.Status == QuestStatus.Queued).MaxBy(q => q!.QueuePosition);
        Assert.NotNull(last);
        Assert.True(last.QueuePosition >= 3, $"{last.QueuePosition} ahead");
        Assert.True(last.EstimatedStartSeconds is null or > 0, $"starts in {last.EstimatedStartSeconds} s");

        var ended = await graph.WaitForEndAsync(user, last.Id, Token);
        Assert.Equal(QuestStatus.Succeeded, ended.Status);
        var read = await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{last.Id}", GraphFixture.Json, Token);
        Assert.Equal((null, null), (read!.QueuePosition, read.EstimatedStartSeconds));
    }
}
