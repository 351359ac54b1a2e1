using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Data.Quests;

/// <summary>
/// How many quests a worker will start before a waiting one, and how many of those go to the same provider.
/// </summary>
/// <param name="Ahead">Quests that start first, whatever their provider.</param>
/// <param name="AheadOnProvider">Of those, the ones for the same provider (they draw on the same account's slots).</param>
public readonly record struct QueuePlace(int Ahead, int AheadOnProvider);

/// <summary>One waiting quest as the queue holds it: when it was sent to the stream, and its model.</summary>
public readonly record struct WaitingEntry(DateTimeOffset EnqueuedAt, Guid Id, string Model);

/// <summary>A user's live runs and their first waiting quests in the order they were sent (as many as the limit).</summary>
public sealed record WaitingOwner(int Running, IReadOnlyList<WaitingEntry> First);

/// <summary>The queue as it stood at <paramref name="At"/>: every user with waiting quests.</summary>
public sealed record WaitingQueue(DateTimeOffset At, IReadOnlyDictionary<Guid, WaitingOwner> Owners);

/// <summary>
/// A waiting quest's place under the fair-share rule (<see cref="FairShare"/>). Ahead of it are the owner's own
/// waiting quests made before it (theirs start in the order made), and, for every other user, the quests sent to the
/// stream before it, but no more of them than that user may still start: a user at the limit has theirs put back
/// behind it. So of another user only their first waiting quests matter (no more than the limit): the queue is read
/// once for many readers (<see cref="WaitingQueueAsync"/>), and each reader adds its own earlier quests.
/// </summary>
public static class QueuePlaces
{
    /// <summary>Each user's live runs and first <paramref name="maxRunningPerUser"/> waiting quests, by the order sent.</summary>
    public static async Task<WaitingQueue> WaitingQueueAsync(this ImageGenDbContext db, int maxRunningPerUser, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await db.RowsAsync($"""
            SELECT w.user_id, w.enqueued_at, w.id, w.model, COALESCE(r.running, 0)::int
            FROM (SELECT user_id, enqueued_at, id, model, row_number() OVER (PARTITION BY user_id ORDER BY enqueued_at, id) AS n
                  FROM quests WHERE status = 'Queued') w
            LEFT JOIN (SELECT user_id, count(*) AS running FROM quests WHERE status = 'Running' AND lease_until >= {now} GROUP BY user_id) r
                ON r.user_id = w.user_id
            WHERE w.n <= {maxRunningPerUser}
            ORDER BY w.user_id, w.n
            """, row => (Owner: row.GetGuid(0), Entry: new WaitingEntry(row.GetFieldValue<DateTimeOffset>(1), row.GetGuid(2), row.GetString(3)), Running: row.GetInt32(4)),
            cancellationToken);
        var owners = rows.GroupBy(r => r.Owner).ToDictionary(g => g.Key, g => new WaitingOwner(g.First().Running, [.. g.Select(r => r.Entry)]));
        return new WaitingQueue(now, owners);
    }

    /// <summary>The owner's own waiting quests made before this one (all of them start first), and those on the provider's models.</summary>
    public static async Task<QueuePlace> OwnAheadAsync(this ImageGenDbContext db, Quest quest, IReadOnlyCollection<string> providerModels, CancellationToken cancellationToken)
    {
        var models = providerModels.ToArray();
        var rows = await db.RowsAsync($"""
            SELECT count(*)::int, (count(*) FILTER (WHERE model = ANY({models})))::int
            FROM quests
            WHERE user_id = {quest.UserId} AND status = 'Queued' AND (created_at, id) < ({quest.CreatedAt}, {quest.Id})
            """, row => new QueuePlace(row.GetInt32(0), row.GetInt32(1)), cancellationToken);
        return rows[0];
    }

    /// <summary>The quest's place: its owner's earlier quests (<paramref name="own"/>) and what each other user may start before it.</summary>
    public static QueuePlace PlaceOf(this WaitingQueue queue, Quest quest, QueuePlace own, IReadOnlySet<string> providerModels, int maxRunningPerUser)
    {
        var (ahead, onProvider) = (own.Ahead, own.AheadOnProvider);
        foreach (var (owner, waiting) in queue.Owners)
        {
            if (owner == quest.UserId)
            {
                continue;
            }

            var room = Math.Max(0, maxRunningPerUser - waiting.Running);
            foreach (var entry in waiting.First.Where(e => SentBefore(e, quest)).Take(room))
            {
                ahead++;
                onProvider += providerModels.Contains(entry.Model) ? 1 : 0;
            }
        }

        return new QueuePlace(ahead, onProvider);
    }

    /// <summary>Sent before the quest, in the stream's order: by time, then by id as Postgres orders a uuid (its bytes, big-endian).</summary>
    private static bool SentBefore(WaitingEntry entry, Quest quest) =>
        entry.EnqueuedAt != quest.EnqueuedAt ? entry.EnqueuedAt < quest.EnqueuedAt
            : entry.Id.ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(quest.Id.ToByteArray(bigEndian: true)) < 0;
}
