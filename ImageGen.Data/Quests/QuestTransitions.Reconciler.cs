using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Quests;

/// <summary>What the reconciler and a run's end ask: quests waiting, lapsed or overdue, and the owner's next.</summary>
public sealed partial class QuestTransitions
{
    /// <summary>
    /// One of the owner's runs ended, so one of their waiting quests may start: the oldest, marked sent now and
    /// returned for the caller to add to the stream (null when none waits).
    /// </summary>
    public async Task<Guid?> NextWaitingOfAsync(Guid ownerId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var next = await db.ValuesAsync<Guid>($"""
            UPDATE quests SET enqueued_at = {now}
            WHERE id = (SELECT id FROM quests WHERE user_id = {ownerId} AND status = 'Queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, cancellationToken);
        return next.Count == 1 ? next[0] : null;
    }


    /// <summary>
    /// Ends a quest that is not finished, from outside any run (the reconciler, the dead-letter path); its reservation
    /// goes back. Null when it had ended already (only one of two callers at the same moment reports it).
    /// </summary>
    public Task<Quest?> EndUnfinishedAsync(Guid questId, QuestStatus status, string code, string message, CancellationToken cancellationToken) =>
        EndAsync(questId, QuestStateGraph.From(status, QuestStatus.Queued, QuestStatus.Running), run: null, owner: null, status, code, message,
            QuestCharge.Nothing, status.ToString(), [], cancellationToken);

    /// <summary>Quests queued since before <paramref name="createdBefore"/> (at most <paramref name="batch"/>, oldest first).</summary>
    public Task<List<Guid>> OverdueAsync(DateTimeOffset createdBefore, int batch, CancellationToken cancellationToken) =>
        db.Quests.Where(q => q.Status == QuestStatus.Queued && q.CreatedAt < createdBefore)
            .OrderBy(q => q.CreatedAt).Select(q => q.Id).Take(batch).ToListAsync(cancellationToken);

    /// <summary>
    /// Running under a lease that lapsed (its worker died): back to the queue, dated <paramref name="enqueuedAt"/> so
    /// the caller's next pass adds stream entries for them. Returns how many.
    /// </summary>
    public async Task<int> RequeueLapsedAsync(DateTimeOffset enqueuedAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string waiting = QuestStatusTexts.Waiting, kind = QuestStepKinds.Requeued, detail = "its worker's lease lapsed";
        return (await db.ValuesAsync<int>($"""
            WITH q AS (
                UPDATE quests SET status = {Queued}, lease_until = NULL, status_text = {waiting}, enqueued_at = {enqueuedAt}
                WHERE status = ANY({RequeueFrom}) AND lease_until < {now} RETURNING id, attempts),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, detail) SELECT id, {now}, {kind}, attempts, {detail} FROM q)
            SELECT count(*)::int FROM q
            """, cancellationToken)).Single();
    }

    /// <summary>
    /// Queued and not taken since <paramref name="enqueuedBefore"/> (the stream entry may be lost): marks them sent
    /// again now and returns them, for the caller to add stream entries (duplicates are harmless: a worker must claim).
    /// </summary>
    public Task<List<Guid>> TakeStaleQueuedAsync(DateTimeOffset enqueuedBefore, int batch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.ValuesAsync<Guid>($"""
            UPDATE quests SET enqueued_at = {now}
            WHERE id IN (SELECT id FROM quests WHERE status = {Queued} AND enqueued_at <= {enqueuedBefore} ORDER BY enqueued_at LIMIT {batch} FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, cancellationToken);
    }
}
