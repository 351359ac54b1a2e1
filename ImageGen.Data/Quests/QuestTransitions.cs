using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Quests;

/// <summary>
/// The one owner of a quest's state. Every change of status, every ledger entry of a quest and every timeline step
/// is written here, each change by one conditional statement that applies only from the state it expects (and, for a
/// worker, only while its run still holds the quest), together with its ledger entry and timeline step in one commit.
/// A change that does not apply says so (null, or an outcome), and writes nothing. Callers coordinate and publish.
/// </summary>
/// <remarks>
/// The owner's running and waiting quests are counted with the status written as a literal, not a parameter: a
/// prepared statement's generic plan can use the partial indexes (<c>status = 'Running'</c>, <c>'Queued'</c>) only then.
/// Worker transitions name their run (<see cref="Quest.Attempts"/> when it was claimed): a worker whose lease lapsed
/// and whose quest another worker took can no longer end it. Provider text is cut to its column before it is stored.
/// </remarks>
public sealed partial class QuestTransitions(ImageGenDbContext db, TimeProvider time)
{
    private const string Queued = nameof(QuestStatus.Queued);
    private const string Running = nameof(QuestStatus.Running);

    /// <summary>
    /// Stores a new quest as queued with its reservation, under the owner's account lock, so parallel submits cannot
    /// spend the same credits. With an idempotency key, a second submit finds the first (it waits on the same lock).
    /// </summary>
    public async Task<SubmitOutcome> EnqueueAsync(Quest quest, IdempotencyRequest? idempotency, string? reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        quest.Status = QuestStatus.Queued;
        quest.StatusText = QuestStatusTexts.Waiting;
        quest.CreatedAt = now;
        quest.EnqueuedAt = now;
        SubmitOutcome outcome = new SubmitOutcome.Accepted(quest);
        await db.InAccountTransactionAsync(quest.UserId, async balance =>
        {
            outcome = new SubmitOutcome.Accepted(quest);
            if (idempotency is not null
                && await db.IdempotencyKeys.AsNoTracking().FirstOrDefaultAsync(k => k.UserId == quest.UserId && k.Key == idempotency.Key, cancellationToken) is { } existing)
            {
                if (idempotency.ReplayWindow is not { } window || existing.CreatedAt >= now - window)
                {
                    outcome = existing.RequestHash == idempotency.RequestHash ? new SubmitOutcome.Replayed(existing.QuestId) : new SubmitOutcome.KeyReused();
                    return false;
                }

                // A key that only holds for a while (one the server derived from the request) starts a new quest after it.
                await db.IdempotencyKeys.Where(k => k.UserId == quest.UserId && k.Key == idempotency.Key).ExecuteDeleteAsync(cancellationToken);
            }

            if (balance < quest.Cost)
            {
                outcome = new SubmitOutcome.ShortOf(balance, quest.Cost);
                return false;
            }

            // The quest, its reservation and its key in one statement (EF's save of the same rows took three times as long).
            string reserve = Kind(CreditEntryKind.Reserve);
            string? key = idempotency?.Key, requestHash = idempotency?.RequestHash;
            await db.ValuesAsync<int>($"""
                WITH q AS ({QuestRow.Insert(quest)} RETURNING id, user_id, cost),
                e AS (
                    INSERT INTO credit_entries (user_id, kind, amount, quest_id, reason, created_at)
                    SELECT user_id, {reserve}, -cost, id, {reason}, {now} FROM q),
                k AS (
                    INSERT INTO idempotency_keys (user_id, key, request_hash, quest_id, created_at)
                    SELECT user_id, {key}::text, {requestHash}::text, id, {now} FROM q WHERE {key}::text IS NOT NULL)
                SELECT count(*)::int FROM q
                """, cancellationToken);
            return true;
        }, cancellationToken);
        return outcome;
    }

    /// <summary>
    /// The owner's cancel: a queued quest ends at once and nothing is charged; a running one is marked, and its worker
    /// stops and settles it (see <see cref="CancelRunAsync"/>).
    /// </summary>
    public async Task<CancelOutcome> CancelByOwnerAsync(Guid questId, Guid ownerId, CancellationToken cancellationToken)
    {
        var cancelled = await EndAsync(questId, [Queued], run: null, ownerId, QuestStatus.Cancelled, ErrorCodes.Cancelled,
            "You cancelled this quest before it started. Nothing was charged.", charge: 0, "Cancelled while queued", [], cancellationToken);
        if (cancelled is not null)
        {
            return new CancelOutcome.Cancelled(cancelled);
        }

        var marked = await db.QuestsAsync($"""
            UPDATE quests SET cancel_requested = TRUE WHERE id = {questId} AND user_id = {ownerId} AND status = {Running} RETURNING *
            """, cancellationToken);
        if (marked.Count == 1)
        {
            return new CancelOutcome.Requested(marked[0]);
        }

        var status = await db.Quests.Where(q => q.Id == questId && q.UserId == ownerId).Select(q => (QuestStatus?)q.Status).FirstOrDefaultAsync(cancellationToken);
        // Between the two statements a worker may have claimed it (now running: ask again) or it may have ended.
        return status switch
        {
            null => new CancelOutcome.NotFound(),
            QuestStatus.Queued or QuestStatus.Running => await CancelByOwnerAsync(questId, ownerId, cancellationToken),
            { } ended => new CancelOutcome.AlreadyEnded(ended),
        };
    }
}

/// <summary>
/// An Idempotency-Key with the fingerprint of the request body it came with. A key with a <see cref="ReplayWindow"/>
/// replays only within that time of its first use (keys the server derives itself, for clients that send none).
/// </summary>
public sealed record IdempotencyRequest(string Key, string RequestHash, TimeSpan? ReplayWindow = null);
