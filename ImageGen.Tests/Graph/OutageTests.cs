using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>Postgres goes away for a while: callers get a clear 503, nothing is half-created, and the API recovers by itself.</summary>
[Collection(ConstrainedCollection.Name)]
public sealed class OutageTests(ConstrainedGraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task While_postgres_is_stopped_requests_get_503_and_nothing_is_half_created_then_the_api_recovers()
    {
        using var user = await graph.CreateUserAsync(Token);
        var body = new { prompt = "during the outage", model = "local-sketch", width = 64, height = 64 };

        await graph.StopPostgresAsync(Token);
        var down = Stopwatch.StartNew();
        try
        {
            using var submit = await user.Client.PostAsJsonAsync("/api/quests", body, Token);
            await ProblemAssert.IsProblemAsync(submit, HttpStatusCode.ServiceUnavailable, "service_unavailable");
            Assert.True(submit.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));

            using var read = await user.Client.GetAsync("/api/quests", Token);
            await ProblemAssert.IsProblemAsync(read, HttpStatusCode.ServiceUnavailable, "service_unavailable");
        }
        finally
        {
            await graph.StartPostgresAsync(Token);
        }

        // Back without restarting anything: the first reads after the restart may still meet a dead pooled connection.
        using var recovery = CancellationTokenSource.CreateLinkedTokenSource(Token);
        recovery.CancelAfter(TimeSpan.FromSeconds(60));
        CreditsDto? credits = null;
        while (credits is null)
        {
            using var response = await user.Client.GetAsync("/api/credits", recovery.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                credits = await graph.ReadAsync<CreditsDto>(response, Token);
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                await Task.Delay(250, recovery.Token);
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"Postgres down to API answering again: {down.Elapsed.TotalSeconds:0.0} s");

        // The refused submit left no quest and no reservation behind.
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Empty(quests!.Items);
        Assert.Equal(100, credits.Balance);
        Assert.Single(credits.Entries);

        // And a new submit goes through to an end.
        var after = await graph.SubmitAndWaitAsync(user, body, Token);
        Assert.True(after.Status.IsTerminal());
    }
}
