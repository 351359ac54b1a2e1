using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ImageGen.Tests.Graph;

/// <summary>A user sees only their own quests, images, events and credits (OWASP API1: broken object level authorization).</summary>
public sealed class IsolationTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Another_users_quest_image_events_and_ledger_are_out_of_reach()
    {
        using var alice = await graph.CreateUserAsync(Token);
        using var bob = await graph.CreateUserAsync(Token);
        await using var bobHub = await graph.ConnectHubAsync(bob, Token);
        var bobEvents = new EventRecorder(bobHub);

        var quest = await graph.CreateAndWaitAsync(alice, new { prompt = "alice's secret garden", model = "local-sketch", width = 64, height = 64 }, Token);
        var image = Assert.Single(quest.Images);

        // Bob's view of Alice's quest is exactly a missing quest's.
        using var bobGet = await bob.Client.GetAsync($"/api/quests/{quest.Id}", Token);
        var seen = await ProblemAssert.IsProblemAsync(bobGet, HttpStatusCode.NotFound, ErrorCodes.QuestNotFound);
        using var missing = await bob.Client.GetAsync($"/api/quests/{Guid.CreateVersion7()}", Token);
        var missingProblem = await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.NotFound, ErrorCodes.QuestNotFound);
        Assert.Equal(missingProblem.GetProperty("title").GetString(), seen.GetProperty("title").GetString());

        var bobList = await bob.Client.GetFromJsonAsync<QuestPage>("/api/quests?limit=100", GraphFixture.Json, Token);
        Assert.DoesNotContain(bobList!.Items, q => q.Id == quest.Id);

        // The image by id without a signature: only its owner.
        var bare = $"/images/{image.Id:N}";
        using var bobImage = await bob.Client.GetAsync(bare, Token);
        await ProblemAssert.IsProblemAsync(bobImage, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound);
        using var aliceImage = await alice.Client.GetAsync(bare, Token);
        Assert.Equal(HttpStatusCode.OK, aliceImage.StatusCode);

        // A signature for one image does not open another.
        var otherQuest = await graph.CreateAndWaitAsync(bob, new { prompt = "bob's own", model = "local-sketch", width = 64, height = 64 }, Token);
        var forged = otherQuest.Images[0].Url.Replace($"{otherQuest.Images[0].Id:N}", $"{image.Id:N}", StringComparison.Ordinal);
        using var forgedResponse = await graph.Gateway.GetAsync(forged, Token);
        await ProblemAssert.IsProblemAsync(forgedResponse, HttpStatusCode.Forbidden, ErrorCodes.InvalidSignature);

        // Bob cannot subscribe to Alice's quest, and no event of hers reached his connection.
        var refused = await Assert.ThrowsAsync<HubException>(() => bobHub.InvokeAsync<QuestDto>("Subscribe", quest.Id, Token));
        Assert.Contains(ErrorCodes.QuestNotFound, refused.Message, StringComparison.Ordinal);
        await bobEvents.Terminal(GraphFixture.QuestTimeout, Token); // Bob's own quest ended...
        Assert.DoesNotContain(bobEvents.Events, e => e.QuestId == quest.Id); // ...and only his events arrived.
        Assert.All(bobEvents.Events, e => Assert.Equal(bob.Id, e.UserId));

        // Ledgers are separate.
        var bobCredits = await bob.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.DoesNotContain(bobCredits!.Entries, e => e.QuestId == quest.Id);
        Assert.All(bobCredits.Entries, e => Assert.True(e.QuestId is null || e.QuestId == otherQuest.Id));
    }

    [Fact]
    public async Task Requests_without_credentials_are_refused()
    {
        foreach (var path in new[] { "/api/quests", "/api/credits", "/api/keys", "/api/me" })
        {
            using var response = await graph.Gateway.GetAsync(path, Token);
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var submit = await graph.Gateway.PostAsJsonAsync("/api/quests", new { prompt = "anonymous", model = "local-sketch" }, Token);
        Assert.Equal(HttpStatusCode.Unauthorized, submit.StatusCode);

        var hub = GraphFixture.BuildHub(graph.GatewayAddress, accessToken: null);
        await using (hub)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => hub.StartAsync(Token).WaitAsync(TimeSpan.FromSeconds(15), Token));
        }
    }
}
