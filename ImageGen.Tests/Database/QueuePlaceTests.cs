using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;

namespace ImageGen.Tests.Database;

/// <summary>A waiting quest's place in the queue, counted by the fair-share rule the workers claim by.</summary>
[Collection(DatabaseCollection.Name)]
public sealed class QueuePlaceTests(ThrowawayPostgres postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    // Long ago, so the quests other tests left (all sent later) are not ahead of these.
    private static readonly DateTimeOffset T0 = new(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = T0.AddHours(1);
    private const int Limit = 2;
    private static readonly HashSet<string> Local = ["local-sketch"];

    [Fact]
    public async Task Ahead_are_the_owners_earlier_quests_and_of_each_other_user_only_as_many_as_they_may_still_start()
    {
        // What other tests left waiting before these quests: counted before and after alike.
        var probe = Queued(await NewUserAsync(), "local-sketch", sent: T0);
        await AddAsync(probe);
        var before = await PlaceAsync(probe);

        var me = await NewUserAsync();
        var (oneFree, idle, full, lapsed, later) = (await NewUserAsync(), await NewUserAsync(), await NewUserAsync(), await NewUserAsync(), await NewUserAsync());
        var mine = Queued(me, "local-sketch", sent: T0.AddSeconds(30));
        await AddAsync(
            // My own earlier quest, sent again after mine (it waited for one of my runs): still ahead, mine start in order.
            Queued(me, "local-sketch", sent: T0.AddSeconds(40), made: T0.AddSeconds(-10)),
            // One running of two allowed: one of their three waiting starts first.
            Running(oneFree, leaseUntil: Now.AddMinutes(1)),
            Queued(oneFree, "local-sketch", sent: T0.AddSeconds(1)), Queued(oneFree, "local-sketch", sent: T0.AddSeconds(2)),
            Queued(oneFree, "gpt-image-1.5", sent: T0.AddSeconds(3)),
            // None running: both start first; one on another provider.
            Queued(idle, "local-sketch", sent: T0.AddSeconds(4)), Queued(idle, "flux-pro-1.1", sent: T0.AddSeconds(5)),
            // At the limit: theirs are put back behind mine.
            Running(full, leaseUntil: Now.AddMinutes(1)), Running(full, leaseUntil: Now.AddMinutes(1)),
            Queued(full, "local-sketch", sent: T0.AddSeconds(6)), Queued(full, "local-sketch", sent: T0.AddSeconds(7)),
            // A run whose lease lapsed (its worker died) holds no place.
            Running(lapsed, leaseUntil: Now.AddMinutes(-1)), Running(lapsed, leaseUntil: Now.AddMinutes(-1)),
            Queued(lapsed, "local-sketch", sent: T0.AddSeconds(8)),
            // Sent after mine: behind it.
            Queued(later, "local-sketch", sent: T0.AddSeconds(50)),
            mine);

        var place = await PlaceAsync(mine);
        // The probe: 1 (local); mine: 1; the one with a free run: 1 (local); the idle one: 2 (1 local); the full one: 0;
        // the lapsed one: 1 (local).
        Assert.Equal((before.Ahead + 1 + 1 + 1 + 2 + 0 + 1, before.AheadOnProvider + 1 + 1 + 1 + 1 + 0 + 1), (place.Ahead, place.AheadOnProvider));
    }

    private async Task<QueuePlace> PlaceAsync(Quest quest)
    {
        await using var db = postgres.CreateContext();
        var own = await db.OwnAheadAsync(quest, Local, Token);
        var queue = await db.WaitingQueueAsync(Limit, Now, Token);
        return queue.PlaceOf(quest, own, Local, Limit);
    }

    private async Task AddAsync(params Quest[] quests)
    {
        await using var db = postgres.CreateContext();
        db.Quests.AddRange(quests);
        await db.SaveChangesAsync(Token);
    }

    private async Task<Guid> NewUserAsync()
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("queue");
        db.Users.Add(user);
        await db.SaveChangesAsync(Token);
        return user.Id;
    }

    private static Quest Queued(Guid user, string model, DateTimeOffset sent, DateTimeOffset? made = null) =>
        New(user, model, QuestStatus.Queued, made ?? sent, sent, leaseUntil: null);

    private static Quest Running(Guid user, DateTimeOffset leaseUntil) => New(user, "local-sketch", QuestStatus.Running, T0, T0, leaseUntil);

    private static Quest New(Guid user, string model, QuestStatus status, DateTimeOffset made, DateTimeOffset sent, DateTimeOffset? leaseUntil) => new()
    {
        Id = Guid.CreateVersion7(),
        UserId = user,
        Prompt = "a place in the queue",
        Model = model,
        Parameters = new QuestParameters { Width = 64, Height = 64 },
        Cost = 1,
        Status = status,
        CreatedAt = made,
        EnqueuedAt = sent,
        LeaseUntil = leaseUntil,
    };
}
