using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>
/// A second, hostile graph: its image store cannot be written (a path under /proc, refused even to root), so every
/// render fails to store, its gateway limits are tight, and quests have fifteen seconds (a large render on a busy
/// two-core machine took more than five).
/// </summary>
public sealed class ConstrainedGraphFixture : GraphFixture
{
    public const int SubmitBurst = 3;
    public const int LoginBurst = 8;

    /// <summary>How recent a sign-in must be for a sensitive action without the password: short, so a test can outlive it.</summary>
    public const string RecentSignInWindow = "00:00:02";
    public const int SignupsPerDay = 3;
    public const int ReadBurst = 40;
    public const int ReadsPerMinute = 1200;
    public const int HubCallBurst = 10;
    public const int HubCallsPerMinute = 60;
    public const int HubConnectionsPerUser = 3;

    /// <summary>An operator's catalog override, given as configuration alone: a model added, a price changed.</summary>
    public const string CatalogOverride = """
        {"models":[{"id":"sketch-poster","base":"local-sketch","displayName":"Sketch poster","cost":{"kind":"perMegapixel","credits":3}},
        {"id":"flux-dev","cost":{"kind":"perImage","credits":5}}]}
        """;

    protected override int WebReplicas => 1;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "ImageGen:ImageStorePath=/proc/imagegen-unwritable",
        $"ImageGen:RateLimits:SubmitBurst={SubmitBurst}",
        "ImageGen:RateLimits:SubmitsPerMinute=1",
        $"ImageGen:RateLimits:LoginBurst={LoginBurst}",
        $"ImageGen:Accounts:RecentSignInWindow={RecentSignInWindow}",
        "ImageGen:RateLimits:LoginsPerMinute=1",
        $"ImageGen:RateLimits:SignupsPerDay={SignupsPerDay}",
        $"ImageGen:RateLimits:ReadBurst={ReadBurst}",
        $"ImageGen:RateLimits:ReadsPerMinute={ReadsPerMinute}",
        $"ImageGen:RateLimits:HubCallBurst={HubCallBurst}",
        $"ImageGen:RateLimits:HubCallsPerMinute={HubCallsPerMinute}",
        $"ImageGen:RateLimits:HubConnectionsPerUser={HubConnectionsPerUser}",
        "ImageGen:Worker:QuestDeadline=00:00:15",
        $"ImageGen:Catalog:Override={CatalogOverride}",
        // Less to start: these tests need no second worker (two API instances stay, so the limits prove shared).
        "ImageGen:WorkerReplicas=1",
    ];
}

[CollectionDefinition(Name)]
public sealed class ConstrainedCollection : ICollectionFixture<ConstrainedGraphFixture>
{
    public const string Name = "constrained";
}

[Collection(ConstrainedCollection.Name)]
public sealed class FailureTests(ConstrainedGraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_quest_that_cannot_be_stored_fails_with_a_reason_and_its_credits_come_back()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var events = new EventRecorder(hub);

        using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "nowhere to keep it", model = "local-sketch", width = 1024, height = 1536 }, Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await graph.ReadAsync<QuestDto>(response, Token);
        Assert.Equal(2, created.Cost);

        var terminal = await events.Terminal(GraphFixture.QuestTimeout, Token);
        Assert.Equal(QuestStatus.Failed, terminal.Status);
        Assert.Equal(ErrorCodes.StorageFailed, terminal.Error?.Code);

        var quest = await graph.WaitForEndAsync(user, created.Id, Token);
        Assert.Equal(QuestStatus.Failed, quest.Status);
        Assert.Equal(ErrorCodes.StorageFailed, quest.Error!.Code);
        Assert.False(string.IsNullOrWhiteSpace(quest.Error.Message));
        Assert.Empty(quest.Images);

        // Reserved at submit, released on failure: the balance is whole again, and the ledger says why.
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100, credits!.Balance);
        Assert.Equal(0, credits.Reserved);
        var entries = credits.Entries.Where(e => e.QuestId == quest.Id).OrderBy(e => e.Id).Select(e => (e.Kind, e.Amount));
        Assert.Equal([(CreditEntryKind.Reserve, -2), (CreditEntryKind.Release, 2)], entries);
    }

    [Fact]
    public async Task A_job_past_the_deadline_times_out_and_is_charged_what_the_provider_bills_for_it()
    {
        using var slow = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile = "Slow", latencyMs = 60_000 }, Token);
        try
        {
            using var user = await graph.CreateUserAsync(Token);
            var quest = await graph.SubmitAndWaitAsync(user, new { prompt = "a slow sunset", model = "flux-pro-1.1", width = 256, height = 256 }, Token);

            // BFL accepted the job (its billing point) and bills for it whether or not we wait: the quest says so.
            Assert.Equal((QuestStatus.TimedOut, ErrorCodes.TimedOut), (quest.Status, quest.Error?.Code));
            Assert.Contains("bills for it: 4 of the 4 reserved credits were charged", quest.Error?.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Nothing was charged", quest.Error?.Message, StringComparison.Ordinal);
            var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
            Assert.Equal(96, credits!.Balance);
            Assert.Equal([(CreditEntryKind.Reserve, -4), (CreditEntryKind.Capture, 0)],
                credits.Entries.Where(e => e.QuestId == quest.Id).OrderBy(e => e.Id).Select(e => (e.Kind, e.Amount)));
        }
        finally
        {
            using var healthy = await graph.Simulator.PutAsJsonAsync("/admin/faults/bfl", new { profile = "Healthy" }, Token);
        }
    }
}
