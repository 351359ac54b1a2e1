using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Data.Quests;

/// <summary>
/// How many quests a worker will start before a waiting one, and how many of those go to the same provider.
/// </summary>
/// <param name="Ahead">Quests that start first, whatever their provider.</param>
/// <param name="AheadOnProvider">Of those, the ones for the same provider (they draw on the same account's slots).</param>
public readonly record struct QueuePlace(int Ahead, int AheadOnProvider);

/// <summary>
/// A waiting quest's place under the fair-share rule (<see cref="FairShare"/>). Ahead of it are the owner's own
/// waiting quests made before it (theirs start in the order made), and, for every other user, the quests sent to the
/// stream before it, but no more of them than that user may still start: a user at the limit has theirs put back
/// behind it. One statement over the waiting-quests index, a count per user and one running count per user ahead.
/// </summary>
public static class QueuePlaces
{
    public static async Task<QueuePlace> OfAsync(this ImageGenDbContext db, Quest quest, IReadOnlyCollection<string> providerModels, int maxRunningPerUser,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var models = providerModels.ToArray();
        var rows = await db.RowsAsync($"""
            WITH others AS (
                SELECT user_id, count(*) AS waiting, count(*) FILTER (WHERE model = ANY({models})) AS on_provider
                FROM quests
                WHERE status = 'Queued' AND user_id <> {quest.UserId} AND (enqueued_at, id) < ({quest.EnqueuedAt}, {quest.Id})
                GROUP BY user_id),
            startable AS (
                SELECT waiting, on_provider, GREATEST(0, {maxRunningPerUser} - (SELECT count(*) FROM quests r
                    WHERE r.user_id = others.user_id AND r.status = 'Running' AND r.lease_until >= {now})) AS room
                FROM others),
            own AS (
                SELECT count(*) AS waiting, count(*) FILTER (WHERE model = ANY({models})) AS on_provider
                FROM quests
                WHERE user_id = {quest.UserId} AND status = 'Queued' AND (created_at, id) < ({quest.CreatedAt}, {quest.Id}))
            SELECT ((SELECT waiting FROM own) + COALESCE(sum(LEAST(waiting, room)), 0))::int,
                ((SELECT on_provider FROM own) + COALESCE(sum(LEAST(on_provider, room)), 0))::int
            FROM startable
            """, row => new QueuePlace(row.GetInt32(0), row.GetInt32(1)), cancellationToken);
        return rows[0];
    }
}
