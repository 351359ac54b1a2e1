using ImageGen.Data.Entities;
using ImageGen.Data.Quests;

namespace ImageGen.Tests.Database;

/// <summary>A key's monthly spend cap, decided in the submit's one statement: in order and in parallel, never passed.</summary>
public sealed partial class QuestTransitionTests
{
    [Fact]
    public async Task A_keys_monthly_cap_stops_its_quests_and_not_the_owners_session()
    {
        var user = await NewUserAsync(100);
        var key = await NewKeyAsync(user, cap: 10);

        Assert.IsType<SubmitOutcome.Accepted>(await SubmitWithKeyAsync(user, key, cost: 4));
        Assert.IsType<SubmitOutcome.Accepted>(await SubmitWithKeyAsync(user, key, cost: 4));
        var refused = Assert.IsType<SubmitOutcome.KeyCapReached>(await SubmitWithKeyAsync(user, key, cost: 4));
        Assert.Equal((8, 10, 4), (refused.Spent, refused.Cap, refused.Cost));
        Assert.IsType<SubmitOutcome.Accepted>(await SubmitWithKeyAsync(user, key, cost: 2));

        // The session (no key) and a key without a cap go on; the balance is what was reserved.
        Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(user, cost: 30));
        Assert.IsType<SubmitOutcome.Accepted>(await SubmitWithKeyAsync(user, await NewKeyAsync(user, cap: null), cost: 30));
        Assert.Equal(100 - 4 - 4 - 2 - 30 - 30, await BalanceAsync(user));
    }

    [Fact]
    public async Task Parallel_submits_with_one_key_cannot_pass_its_cap_together_and_a_released_quest_gives_its_spend_back()
    {
        var user = await NewUserAsync(1000);
        var key = await NewKeyAsync(user, cap: 15);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SubmitWithKeyAsync(user, key, cost: 5)));
        Assert.Equal(3, outcomes.Count(o => o is SubmitOutcome.Accepted));
        Assert.Equal(7, outcomes.Count(o => o is SubmitOutcome.KeyCapReached));

        // A quest that ends charging nothing counts nothing.
        var first = outcomes.OfType<SubmitOutcome.Accepted>().First().Quest;
        Assert.IsType<CancelOutcome.Cancelled>(await WithTransitions(t => t.CancelByOwnerAsync(first.Id, user, Token)));
        Assert.IsType<SubmitOutcome.Accepted>(await SubmitWithKeyAsync(user, key, cost: 5));
    }

    private Task<SubmitOutcome> SubmitWithKeyAsync(Guid user, Guid key, int cost)
    {
        var quest = NewQuest(user, cost);
        quest.ApiKeyId = key;
        return WithTransitions(t => t.EnqueueAsync(quest, null, null, Token));
    }

    private async Task<Guid> NewKeyAsync(Guid user, int? cap)
    {
        await using var db = postgres.CreateContext();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(), UserId = user, Name = "capped", Prefix = "igk_" + Guid.NewGuid().ToString("N")[..8], Hash = Guid.NewGuid().ToString("N"),
            Scopes = "quests", CreatedAt = DateTimeOffset.UtcNow, MonthlySpendCap = cap,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(Token);
        return key.Id;
    }
}
