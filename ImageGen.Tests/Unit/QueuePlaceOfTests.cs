using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>A waiting quest's place, counted from the queue as read: the stream's order, to the last tie.</summary>
public sealed class QueuePlaceOfTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Quests_sent_in_the_same_instant_are_ordered_by_id_as_postgres_orders_a_uuid()
    {
        // Postgres orders uuids by their bytes, first to last, as the stream's order breaks a tie in time.
        Guid Id(byte first, byte fourth) => new([first, 0, 0, fourth, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 1], bigEndian: true);
        var (me, other) = (Guid.NewGuid(), Guid.NewGuid());
        var mine = new Quest { Id = Id(2, 0), UserId = me, Prompt = "mine", Model = "local-sketch", Parameters = new QuestParameters(), EnqueuedAt = At };
        var queue = new WaitingQueue(At, new Dictionary<Guid, WaitingOwner>
        {
            [other] = new(Running: 0, [new(At, Id(1, 9), "local-sketch"), new(At, Id(3, 0), "local-sketch")]),
            [me] = new(Running: 0, [new(At.AddSeconds(-5), Guid.NewGuid(), "local-sketch")]),
        });

        // Of the other user's two, only the one whose first byte is lower; the owner's own come from their own count.
        Assert.Equal(new QueuePlace(1 + 1, 1 + 0), queue.PlaceOf(mine, own: new QueuePlace(1, 0), new HashSet<string> { "local-sketch" }, maxRunningPerUser: 4));
    }

    [Fact]
    public void Another_user_adds_no_more_than_they_may_still_start()
    {
        var other = Guid.NewGuid();
        var mine = new Quest { Id = Guid.CreateVersion7(), UserId = Guid.NewGuid(), Prompt = "mine", Model = "flux-pro-1.1", Parameters = new QuestParameters(), EnqueuedAt = At };
        WaitingQueue With(int running) => new(At, new Dictionary<Guid, WaitingOwner>
        {
            [other] = new(running, [new(At.AddSeconds(-3), Guid.NewGuid(), "flux-pro-1.1"), new(At.AddSeconds(-2), Guid.NewGuid(), "local-sketch"),
                new(At.AddSeconds(-1), Guid.NewGuid(), "flux-pro-1.1"), new(At.AddSeconds(1), Guid.NewGuid(), "flux-pro-1.1")]),
        });
        var flux = new HashSet<string> { "flux-pro-1.1" };

        Assert.Equal(new QueuePlace(3, 2), With(running: 0).PlaceOf(mine, default, flux, 4));
        Assert.Equal(new QueuePlace(2, 1), With(running: 2).PlaceOf(mine, default, flux, 4));
        Assert.Equal(new QueuePlace(0, 0), With(running: 4).PlaceOf(mine, default, flux, 4));
        Assert.Equal(new QueuePlace(0, 0), With(running: 6).PlaceOf(mine, default, flux, 4));
    }
}
