using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Catalog;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>A provider account out of credit, as each provider says it: failed at once, not charged, operators told.</summary>
public sealed partial class OperatorTests
{
    [Theory]
    [InlineData("openai", nameof(ModelProvider.OpenAI), "gpt-image-1.5", "openai.generations")]
    [InlineData("bfl", nameof(ModelProvider.BlackForestLabs), "flux-pro-1.1", "bfl.submit")]
    public async Task An_exhausted_provider_account_fails_the_quest_at_once_charges_nothing_and_alerts_the_operators(string simulated, string provider, string model,
        string calls)
    {
        using var user = await graph.CreateUserAsync(Token);
        var key = $"{AlertKinds.ProviderAccount}:{provider.ToLowerInvariant()}";
        await SetFaultAsync(simulated, "OutOfCredits");
        QuestDto quest;
        int sent;
        try
        {
            var before = await CallsAsync(calls);
            object request = simulated == "openai" ? new { prompt = "a lantern", model, quality = "low" } : new { prompt = "a lantern", model, width = 256, height = 256 };
            quest = await graph.SubmitAndWaitAsync(user, request, Token);
            sent = await CallsAsync(calls) - before;
        }
        finally
        {
            await SetFaultAsync(simulated, "Healthy");
        }

        // One call, no retry; the person reads that the model is unavailable and that nothing was charged.
        Assert.Equal((QuestStatus.Failed, ErrorCodes.ProviderAccountExhausted), (quest.Status, quest.Error?.Code));
        Assert.Contains("unavailable right now", quest.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1, sent);
        Assert.Equal(100, (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
        // Not an outage: the provider's circuit stays closed.
        var providers = await user.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/providers", Token);
        Assert.Contains(providers.EnumerateArray(), p => p.GetProperty("provider").GetString() == provider
            && p.GetProperty("circuit").GetString() == "Closed");

        AlertDto? fired = null;
        await RepeatUntilAsync(async () => (fired = await ActiveAsync(key)) is not null, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(500));
        Assert.Contains("run out of credit", fired!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bfl_balance_shows_on_the_monitoring_data_and_an_empty_one_marks_the_account()
    {
        await SetFaultAsync("bfl", "OutOfCredits");
        try
        {
            // The probe (every 5 s in this graph) asks BFL's balance; an empty account is unavailable, named as such.
            Core.Providers.ProviderHealthDto? bfl = null;
            await RepeatUntilAsync(async () =>
            {
                var providers = await graph.Admin.Client.GetFromJsonAsync<List<Core.Providers.ProviderHealthDto>>("/api/providers", GraphFixture.Json, Token);
                bfl = providers!.Single(p => p.Provider == ModelProvider.BlackForestLabs);
                return bfl.Balance == 0m;
            }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500));
            Assert.Equal(("unavailable", ErrorCodes.ProviderAccountExhausted), (bfl!.Status, bfl.LastErrorCode));
        }
        finally
        {
            // The next probe reads the balance again (ProviderTests waits for it before asserting every provider healthy).
            await SetFaultAsync("bfl", "Healthy");
        }
    }

    private async Task<int> CallsAsync(string name) =>
        (await graph.Simulator.GetFromJsonAsync<Dictionary<string, int>>("/admin/stats", Token))!.GetValueOrDefault(name);
}
