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

    // The states each transition expects, checked against the declared graph when the type is first used.
    private static readonly string[] CancelQueuedFrom = QuestStateGraph.From(QuestStatus.Cancelled, QuestStatus.Queued);
    private static readonly string[] ClaimFrom = QuestStateGraph.From(QuestStatus.Running, QuestStatus.Queued, QuestStatus.Running);
    private static readonly string[] HandBackFrom = QuestStateGraph.From(QuestStatus.Queued, QuestStatus.Running);
    private static readonly string[] SucceedFrom = QuestStateGraph.From(QuestStatus.Succeeded, QuestStatus.Running);
    private static readonly string[] CancelRunFrom = QuestStateGraph.From(QuestStatus.Cancelled, QuestStatus.Running);
    private static readonly string[] RequeueFrom = QuestStateGraph.From(QuestStatus.Queued, QuestStatus.Running);

    /// <summary>
    /// Stores a new quest as queued with its reservation, under the owner's account lock, so parallel submits cannot
    /// spend the same credits. With an idempotency key, a second submit finds the first (it waits on the same lock).
    /// </summary>
    /// <remarks>
    /// One round trip: the lock and the decision go to Postgres as two statements of one batch, which run as one
    /// implicit transaction (committed when both are done, rolled back if either fails). The lock is an update of the
    /// owner's account row that changes nothing (made first, at 0, for a user with no entry yet); it waits for whoever
    /// holds the row. The second statement reads with a snapshot taken after the lock was granted (read committed: one
    /// per statement), so it sees every reservation and key committed before: it inserts the quest, its reservation and
    /// its key only when no live key answers for the request, the balance covers the cost and the submitting API key's
    /// monthly cap (if it has one) does too, and says which it was.
    /// </remarks>
    public async Task<SubmitOutcome> EnqueueAsync(Quest quest, IdempotencyRequest? idempotency, string? reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        quest.Status = QuestStateGraph.Start;
        quest.StatusText = QuestStatusTexts.Waiting;
        quest.CreatedAt = now;
        quest.EnqueuedAt = now;
        string reserve = Kind(CreditEntryKind.Reserve);
        string? key = idempotency?.Key, requestHash = idempotency?.RequestHash;
        // A key the server derived from the request holds only for a while; after it, the same request starts a new quest.
        DateTimeOffset? liveSince = idempotency?.ReplayWindow is { } window ? now - window : null;
        // A key's monthly cap counts what its quests of this calendar month (UTC) took: the charge once ended, else the reservation.
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var keyId = quest.ApiKeyId;
        var decision = (await db.RowsAsync($"""
            {CreditLedger.AccountLock(quest.UserId)};
            WITH live AS (
                SELECT quest_id, request_hash FROM idempotency_keys
                WHERE user_id = {quest.UserId} AND key = {key}::text AND ({liveSince}::timestamptz IS NULL OR created_at >= {liveSince}::timestamptz)),
            b AS (SELECT balance FROM credit_accounts WHERE user_id = {quest.UserId}),
            cap AS (SELECT monthly_spend_cap AS cap FROM api_keys WHERE id = {keyId}::uuid),
            spent AS (SELECT COALESCE(SUM(COALESCE(charged, cost)), 0)::int AS spent FROM quests WHERE api_key_id = {keyId}::uuid AND created_at >= {monthStart}),
            q AS (
                {QuestRow.Insert(quest, onlyIf: new($"NOT EXISTS (SELECT 1 FROM live) AND (SELECT balance FROM b) >= {quest.Cost} AND ((SELECT cap FROM cap) IS NULL OR (SELECT spent FROM spent) + {quest.Cost} <= (SELECT cap FROM cap))"))}
                RETURNING id, user_id, cost),
            e AS (
                INSERT INTO credit_entries (user_id, kind, amount, quest_id, reason, created_at)
                SELECT user_id, {reserve}, -cost, id, {reason}, {now} FROM q),
            k AS (
                INSERT INTO idempotency_keys (user_id, key, request_hash, quest_id, created_at)
                SELECT user_id, {key}::text, {requestHash}::text, id, {now} FROM q WHERE {key}::text IS NOT NULL
                ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, quest_id = excluded.quest_id, created_at = excluded.created_at)
            SELECT (SELECT balance FROM b), live.quest_id, live.request_hash, (SELECT count(*) FROM q)::int, (SELECT spent FROM spent), (SELECT cap FROM cap)
            FROM (SELECT 1) AS one LEFT JOIN live ON TRUE
            """, row => (Balance: row.IsDBNull(0) ? 0 : row.GetInt32(0), Existing: row.IsDBNull(1) ? (Guid?)null : row.GetGuid(1),
                ExistingHash: row.IsDBNull(2) ? null : row.GetString(2), Stored: row.GetInt32(3) == 1, Spent: row.GetInt32(4),
                Cap: row.IsDBNull(5) ? (int?)null : row.GetInt32(5)), cancellationToken)).Single();
        return decision switch
        {
            { Existing: { } existing } => decision.ExistingHash == requestHash ? new SubmitOutcome.Replayed(existing) : new SubmitOutcome.KeyReused(),
            { Stored: true } => new SubmitOutcome.Accepted(quest),
            { Cap: { } cap } when decision.Spent + quest.Cost > cap => new SubmitOutcome.KeyCapReached(decision.Spent, cap, quest.Cost),
            _ => new SubmitOutcome.ShortOf(decision.Balance, quest.Cost),
        };
    }

    /// <summary>
    /// The owner's cancel: a queued quest ends at once and nothing is charged; a running one is marked, and its worker
    /// stops and settles it (see <see cref="CancelRunAsync"/>).
    /// </summary>
    public async Task<CancelOutcome> CancelByOwnerAsync(Guid questId, Guid ownerId, CancellationToken cancellationToken)
    {
        var cancelled = await EndAsync(questId, CancelQueuedFrom, run: null, ownerId, QuestStatus.Cancelled, ErrorCodes.Cancelled,
            "You cancelled this quest before it started. Nothing was charged.", QuestCharge.Nothing, "Cancelled while queued", [], cancellationToken);
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
