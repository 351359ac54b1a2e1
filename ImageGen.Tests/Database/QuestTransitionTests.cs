using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Database;

/// <summary>
/// The rules of a quest's state and money, against Postgres alone: each transition applies only from the state it
/// expects, settles exactly once, and never creates a credit, also when callers race. Here the submit; a worker's run
/// and its ending in <c>QuestTransitionTests.Runs.cs</c>.
/// </summary>
[Collection(DatabaseCollection.Name)]
public sealed partial class QuestTransitionTests(ThrowawayPostgres postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_submit_reserves_its_cost_and_one_the_balance_cannot_cover_stores_nothing()
    {
        var user = await NewUserAsync(10);
        var accepted = Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(user, cost: 6));
        Assert.Equal(QuestStatus.Queued, accepted.Quest.Status);
        Assert.Equal(QuestStatusTexts.Waiting, accepted.Quest.StatusText);

        var refused = Assert.IsType<SubmitOutcome.ShortOf>(await SubmitAsync(user, cost: 6));
        Assert.Equal(4, refused.Balance);
        Assert.Equal(4, await BalanceAsync(user));
        await using var db = postgres.CreateContext();
        Assert.Equal(1, await db.Quests.CountAsync(q => q.UserId == user, Token));
    }

    [Fact]
    public async Task Parallel_submits_cannot_spend_the_same_credits()
    {
        var user = await NewUserAsync(100);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SubmitAsync(user, cost: 30)));
        Assert.Equal(3, outcomes.Count(o => o is SubmitOutcome.Accepted));
        Assert.Equal(10, await BalanceAsync(user));
    }

    [Fact]
    public async Task A_user_without_any_ledger_entry_is_short_and_parallel_submits_create_no_credit()
    {
        var user = await NewUserAsync(grant: null);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => SubmitAsync(user, cost: 1)));
        Assert.All(outcomes, o => Assert.Equal(0, Assert.IsType<SubmitOutcome.ShortOf>(o).Balance));
        Assert.Equal(0, await BalanceAsync(user));
        await using var db = postgres.CreateContext();
        Assert.False(await db.Quests.AnyAsync(q => q.UserId == user, Token));

        // Granted later, the account the lock made holds exactly the grant.
        db.CreditEntries.Add(CreditLedger.Entry(user, CreditEntryKind.Grant, 3, DateTimeOffset.UtcNow, reason: "late grant"));
        await db.SaveChangesAsync(Token);
        var after = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => SubmitAsync(user, cost: 1)));
        Assert.Equal(3, after.Count(o => o is SubmitOutcome.Accepted));
        Assert.Equal(0, await BalanceAsync(user));
    }

    [Fact]
    public async Task The_same_idempotency_key_replays_the_first_quest_and_a_different_body_is_refused()
    {
        var user = await NewUserAsync(100);
        var first = Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(user, cost: 5, new IdempotencyRequest("k-1", "hash-a")));
        var again = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SubmitAsync(user, cost: 5, new IdempotencyRequest("k-1", "hash-a"))));
        Assert.All(again, o => Assert.Equal(first.Quest.Id, Assert.IsType<SubmitOutcome.Replayed>(o).QuestId));
        Assert.IsType<SubmitOutcome.KeyReused>(await SubmitAsync(user, cost: 5, new IdempotencyRequest("k-1", "hash-b")));
        Assert.Equal(95, await BalanceAsync(user));
    }

    [Fact]
    public async Task A_key_answers_only_for_its_owner_and_its_text_is_never_sql()
    {
        // Text that would end the statement early if it were pasted into the SQL.
        var key = new IdempotencyRequest("k'; UPDATE credit_accounts SET balance = 1000000; --", "hash-a");
        var owner = await NewUserAsync(100);
        var other = await NewUserAsync(100);
        var first = Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(owner, cost: 5, key));

        // Another user sending the same key and body gets a quest of their own, never the owner's.
        var theirs = Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(other, cost: 5, key));
        Assert.NotEqual(first.Quest.Id, theirs.Quest.Id);
        Assert.Equal(first.Quest.Id, Assert.IsType<SubmitOutcome.Replayed>(await SubmitAsync(owner, cost: 5, key)).QuestId);
        Assert.Equal(95, await BalanceAsync(owner));
        Assert.Equal(95, await BalanceAsync(other));
    }

    [Fact]
    public async Task A_key_with_a_replay_window_replays_within_it_and_starts_a_new_quest_after_it()
    {
        var user = await NewUserAsync(100);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var key = new IdempotencyRequest("v1:derived", "hash-a", TimeSpan.FromMinutes(10));
        async Task<SubmitOutcome> At(TimeSpan later)
        {
            time.SetUtcNow(DateTimeOffset.UtcNow + later);
            await using var db = postgres.CreateContext();
            return await new QuestTransitions(db, time).EnqueueAsync(NewQuest(user, 5), key, null, Token);
        }

        var first = Assert.IsType<SubmitOutcome.Accepted>(await At(TimeSpan.Zero));
        Assert.Equal(first.Quest.Id, Assert.IsType<SubmitOutcome.Replayed>(await At(TimeSpan.FromMinutes(9))).QuestId);
        var later = Assert.IsType<SubmitOutcome.Accepted>(await At(TimeSpan.FromMinutes(11)));
        Assert.NotEqual(first.Quest.Id, later.Quest.Id);
        // The key now answers for the new quest.
        Assert.Equal(later.Quest.Id, Assert.IsType<SubmitOutcome.Replayed>(await At(TimeSpan.FromMinutes(12))).QuestId);
        Assert.Equal(90, await BalanceAsync(user));
    }

    private async Task<T> WithTransitions<T>(Func<QuestTransitions, Task<T>> use)
    {
        await using var db = postgres.CreateContext();
        return await use(new QuestTransitions(db, TimeProvider.System));
    }

    private Task<SubmitOutcome> SubmitAsync(Guid user, int cost, IdempotencyRequest? key = null) =>
        WithTransitions(t => t.EnqueueAsync(NewQuest(user, cost), key, null, Token));

    private async Task<Quest> QueuedQuestAsync(int cost) =>
        Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(await NewUserAsync(100), cost)).Quest;

    private async Task<Quest> RunningQuestAsync(int cost)
    {
        var quest = await QueuedQuestAsync(cost);
        return Assert.IsType<ClaimOutcome.Claimed>(await WithTransitions(t => t.ClaimAsync(quest.Id, Lease, 3, "worker", Token))).Quest;
    }

    private static Quest NewQuest(Guid user, int cost) => new()
    {
        Id = Guid.CreateVersion7(),
        UserId = user,
        Prompt = "a lighthouse",
        Model = "local-sketch",
        Width = 64,
        Height = 64,
        Parameters = new QuestParameters { Width = 64, Height = 64 },
        Cost = cost,
    };

    private static QuestImage Image(Quest quest, int index) => new()
    {
        Id = Guid.CreateVersion7(),
        QuestId = quest.Id,
        UserId = quest.UserId,
        Index = index,
        Width = 64,
        Height = 64,
        ContentType = "image/png",
        Bytes = 10,
        Checksum = "00",
        StorageKey = $"test/{Guid.NewGuid():N}.png",
        CreatedAt = DateTimeOffset.UtcNow,
    };

    private async Task<Guid> NewUserAsync(int? grant)
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("ledger");
        db.Users.Add(user);
        if (grant is { } credits)
        {
            db.CreditEntries.Add(CreditLedger.Entry(user.Id, CreditEntryKind.Grant, credits, DateTimeOffset.UtcNow, reason: "test grant"));
        }

        await db.SaveChangesAsync(Token);
        return user.Id;
    }

    private async Task<int> BalanceAsync(Guid user)
    {
        await using var db = postgres.CreateContext();
        var kept = await db.BalanceAsync(user, Token);
        // The kept balance always equals the ledger's sum.
        Assert.Equal(await db.CreditEntries.Where(e => e.UserId == user).SumAsync(e => e.Amount, Token), kept);
        return kept;
    }

    private async Task<Quest> ReadAsync(Guid questId)
    {
        await using var db = postgres.CreateContext();
        return await db.Quests.AsNoTracking().SingleAsync(q => q.Id == questId, Token);
    }

    private async Task<List<QuestStep>> StepsAsync(Guid questId)
    {
        await using var db = postgres.CreateContext();
        return await db.QuestSteps.AsNoTracking().Where(s => s.QuestId == questId).OrderBy(s => s.Id).ToListAsync(Token);
    }
}
