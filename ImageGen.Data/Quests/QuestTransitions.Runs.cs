using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Quests;

/// <summary>A worker's run: claim, lease, progress, the provider's job, and its ending.</summary>
public sealed partial class QuestTransitions
{
    /// <summary>
    /// A worker takes the quest: queued, or running under a lease that lapsed (its worker died). Exactly one worker
    /// wins, whatever duplicates the stream holds. A quest started <paramref name="maxRuns"/> times is not started again,
    /// and one whose owner already has <paramref name="maxRunningPerOwner"/> quests running waits (fair share: one user's
    /// hundred quests cannot hold every worker while another user's one quest waits).
    /// </summary>
    public async Task<ClaimOutcome> ClaimAsync(Guid questId, TimeSpan lease, int maxRuns, string worker, CancellationToken cancellationToken,
        int maxRunningPerOwner = int.MaxValue)
    {
        var now = time.GetUtcNow();
        var until = now + lease;
        string starting = QuestStatusTexts.Starting, started = QuestStepKinds.Started;
        var claim = new SqlFragment($"""
            WITH q AS (
                UPDATE quests SET status = {Running}, lease_until = {until}, attempts = attempts + 1,
                    started_at = COALESCE(started_at, {now}), status_text = {starting}
                WHERE id = {questId} AND attempts < {maxRuns}
                    AND status = ANY({ClaimFrom}) AND (status <> {Running} OR lease_until < {now})
                    AND (SELECT count(*) FROM quests r WHERE r.user_id = quests.user_id AND r.status = 'Running'
                        AND r.lease_until >= {now} AND r.id <> {questId}) < {maxRunningPerOwner}
                RETURNING *),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, duration_ms, detail)
                SELECT id, {now}, {started}, attempts, GREATEST(0, EXTRACT(EPOCH FROM ({now} - enqueued_at)) * 1000)::int, {Limit(worker, QuestStepLimits.MaxDetailLength)} FROM q),
            {QueuedWebhook(WebhookEventNames.Started, WebhookEvents.Started, now, firstRunOnly: true)}
            SELECT * FROM q
            """);
        var statement = maxRunningPerOwner == int.MaxValue ? claim.Text : AfterOwnerClaimLock(claim, questId);
        var claimed = await db.QuestsAsync(statement, cancellationToken);
        if (claimed.Count == 1)
        {
            return new ClaimOutcome.Claimed(claimed[0]);
        }

        // Rare, so the question why is asked only now.
        var waiting = await db.Quests.Where(q => q.Id == questId && (q.Status == QuestStatus.Queued || (q.Status == QuestStatus.Running && q.LeaseUntil < now)))
            .Select(q => new { q.Attempts }).FirstOrDefaultAsync(cancellationToken);
        return waiting switch
        {
            null => new ClaimOutcome.NotClaimable(),
            { Attempts: var runs } when runs >= maxRuns => new ClaimOutcome.Exhausted(),
            _ => await ParkAsync(questId, cancellationToken),
        };
    }

    /// <summary>
    /// The fair-share count and the claim must be one decision: two workers claiming two quests of one owner at the same
    /// moment each counted the other's run as not started yet, and the owner got one run more than allowed. Claims of
    /// one owner's quests take a lock on the owner first (<c>lock_owner_claims</c>, a transaction-scoped advisory lock);
    /// the claim statement runs after it is granted, so its count sees every claim committed before (read committed: a
    /// fresh snapshot per statement). Both go in one round trip without BEGIN and COMMIT: statements sent together
    /// run as one implicit transaction, which holds the lock until the claim is committed.
    /// </summary>
    private static FormattableString AfterOwnerClaimLock(SqlFragment claim, Guid questId) =>
        $"CALL lock_owner_claims({questId});\n{claim}";

    /// <summary>Dates a waiting quest now, so the reconciler leaves it alone until the re-send interval passes.</summary>
    private async Task<ClaimOutcome> ParkAsync(Guid questId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await db.Quests.Where(q => q.Id == questId && q.Status == QuestStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(q => q.EnqueuedAt, now), cancellationToken);
        return new ClaimOutcome.OwnerBusy();
    }


    /// <summary>Keeps the run's hold on the quest; false when the run lost it (ended, or taken after a lapse).</summary>
    public async Task<bool> RenewLeaseAsync(Guid questId, int run, TimeSpan lease, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + lease;
        return await db.Database.ExecuteSqlAsync($"""
            UPDATE quests SET lease_until = {until} WHERE id = {questId} AND attempts = {run} AND status = {Running}
            """, cancellationToken) == 1;
    }

    /// <summary>The run's progress (never backwards) and its status line, with the timeline steps it gathered.</summary>
    public Task<bool> RecordProgressAsync(Guid questId, int run, double progress, string statusText, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var text = Limit(statusText, QuestLimits.MaxStatusTextLength);
        return ApplyAsync(steps, async () => (await db.ValuesAsync<int>($"""
            WITH q AS (
                UPDATE quests SET progress = GREATEST(progress, {progress}), status_text = {text}
                WHERE id = {questId} AND attempts = {run} AND status = {Running} RETURNING id, user_id, attempts, status, progress, webhook_url, webhook_events),
            {QueuedWebhook(WebhookEventNames.Progress, WebhookEvents.Progress, now)}
            SELECT count(*)::int FROM q
            """, cancellationToken)).Single(), cancellationToken);
    }

    /// <summary>
    /// The provider accepted the job: its id, where to poll it, and what it costs, kept at once so a crash resumes the
    /// job instead of paying for another, and a cancel from now on is charged what the provider bills.
    /// </summary>
    public Task<bool> RecordJobAcceptedAsync(Guid questId, int run, string jobId, string pollingUrl, int? cost, IReadOnlyCollection<QuestStep> steps,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string id = Limit(jobId, QuestLimits.MaxProviderJobIdLength), url = Limit(pollingUrl, QuestLimits.MaxPollingUrlLength), kind = QuestStepKinds.JobAccepted;
        int? sane = QuestCharges.IsSane(cost) ? cost : null;
        var detail = Limit(jobId, QuestStepLimits.MaxDetailLength);
        var code = sane is { } c ? $"cost {c}" : null;
        return ApplyAsync(steps, async () => (await db.ValuesAsync<int>($"""
            WITH q AS (
                UPDATE quests SET provider_job_id = {id}, provider_polling_url = {url}, provider_cost = {sane}::int,
                    billable_since = COALESCE(billable_since, {now})
                WHERE id = {questId} AND attempts = {run} AND status = {Running} RETURNING id, attempts),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, code, detail) SELECT id, {now}, {kind}, attempts, {code}::text, {detail} FROM q)
            SELECT count(*)::int FROM q
            """, cancellationToken)).Single(), cancellationToken);
    }

    /// <summary>
    /// The provider bills for the quest from now on whatever happens next (OpenAI once the request was sent), or, with
    /// <paramref name="billable"/> false, no longer (it answered with a refusal, which it does not bill): kept at once, so
    /// a cancel while the provider works is charged what it bills (<see cref="QuestCharges.ForCancel"/>).
    /// </summary>
    public async Task<bool> RecordBillableAsync(Guid questId, int run, bool billable, CancellationToken cancellationToken)
    {
        DateTimeOffset? since = billable ? time.GetUtcNow() : null;
        return await db.Database.ExecuteSqlAsync($"""
            UPDATE quests SET billable_since = CASE WHEN {since}::timestamptz IS NULL THEN NULL ELSE COALESCE(billable_since, {since}::timestamptz) END
            WHERE id = {questId} AND attempts = {run} AND status = {Running} AND provider_job_id IS NULL
            """, cancellationToken) == 1;
    }

    /// <summary>Shutdown: the run gives the quest back to the queue (the caller adds a stream entry after this commits).</summary>
    public async Task<Quest?> HandBackAsync(Guid questId, int run, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string waiting = QuestStatusTexts.Waiting, kind = QuestStepKinds.HandedBack, detail = "worker shutting down";
        return await InTransactionAsync(steps, async () => (await db.QuestsAsync($"""
            WITH q AS (
                UPDATE quests SET status = {Queued}, lease_until = NULL, status_text = {waiting}, enqueued_at = {now}
                WHERE id = {questId} AND attempts = {run} AND status = ANY({HandBackFrom}) RETURNING *),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, detail) SELECT id, {now}, {kind}, attempts, {detail} FROM q)
            SELECT * FROM q
            """, cancellationToken)).SingleOrDefault(), cancellationToken);
    }

    /// <summary>
    /// The run made its images: they are stored as rows, the quest succeeds, and the reservation is captured (what the
    /// provider billed, never more than reserved: <see cref="QuestCharges.ForSuccess"/>), in one commit. The run is the
    /// quest as its worker claimed it: its id, its run number and its reservation.
    /// </summary>
    public async Task<Quest?> SucceedAsync(Quest claimed, IReadOnlyList<QuestImage> images, int? billed, TimeSpan providerTime, long? seed,
        IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken, string? ranModel = null, IReadOnlyList<string>? descriptions = null)
    {
        var described = descriptions?.ToArray();
        var now = time.GetUtcNow();
        var (questId, run) = (claimed.Id, claimed.Attempts);
        var ms = (int)Math.Min(int.MaxValue, providerTime.TotalMilliseconds);
        var charge = QuestCharges.ForSuccess(claimed.Cost, billed);
        int reserved = charge.Reserved, charged = charge.Charged;
        string done = QuestStatusTexts.Done, succeeded = nameof(QuestStatus.Succeeded), capture = Kind(CreditEntryKind.Capture), ended = QuestStepKinds.Ended;
        var reason = $"Charged {charged} of {reserved} reserved";
        // A figure no provider could bill (negative) is not believed: the reservation is charged, and the timeline says why.
        var insane = !QuestCharges.IsSane(billed) && billed is not null;
        string? costCode = insane ? "provider_cost_invalid" : null;
        var stepDetail = insane ? $"Succeeded; the provider reported a cost of {billed}, not believed: the reservation is charged" : succeeded;
        int? width = images.Count > 0 ? images[0].Width : null, height = images.Count > 0 ? images[0].Height : null;
        var g = GatheredSteps.Of(steps);
        var m = StoredImages.Of(images);
        // One statement, so its own transaction: the run's steps and the images ride along as arrays and are written only
        // when the change applies (steps alone are history and kept either way); the ending step follows the run's steps
        // on the timeline (it reads gs, so gs is written first).
        var quest = await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            try
            {
                return (await db.QuestsAsync($"""
                    WITH q AS (
                        UPDATE quests SET status = {succeeded}, lease_until = NULL, progress = 1, status_text = {done}, completed_at = {now},
                            generation_milliseconds = {ms}, width = COALESCE(width, {width}::int), height = COALESCE(height, {height}::int),
                            seed = COALESCE(seed, {seed}::bigint), charged = {charged}, descriptions = COALESCE({described}::text[], descriptions),
                            model = COALESCE({ranModel}::text, model), requested_model = CASE WHEN {ranModel}::text IS NULL THEN requested_model ELSE model END
                        WHERE id = {questId} AND attempts = {run} AND status = ANY({SucceedFrom}) AND cost = {reserved} RETURNING *),
                    gs AS (
                        INSERT INTO quest_steps (quest_id, at, kind, run, attempt, duration_ms, http_status, code, detail, circuit, sent)
                        SELECT {questId}, x.at, x.kind, x.run, x.attempt, x.duration_ms, x.http_status, x.code, x.detail, x.circuit, x.sent::jsonb
                        FROM unnest({g.At}::timestamptz[], {g.Kind}::text[], {g.Run}::int[], {g.Attempt}::int[], {g.DurationMs}::int[],
                            {g.HttpStatus}::int[], {g.Code}::text[], {g.Detail}::text[], {g.Circuit}::text[], {g.Sent}::text[])
                            AS x(at, kind, run, attempt, duration_ms, http_status, code, detail, circuit, sent)
                        WHERE EXISTS (SELECT 1 FROM q) OR cardinality({m.Id}::uuid[]) = 0
                        RETURNING id),
                    i AS (
                        INSERT INTO quest_images (id, quest_id, user_id, index, width, height, content_type, bytes, checksum, storage_key, created_at, placeholder)
                        SELECT x.id, {questId}, x.user_id, x.index, x.width, x.height, x.content_type, x.bytes, x.checksum, x.storage_key, x.created_at, x.placeholder
                        FROM unnest({m.Id}::uuid[], {m.UserId}::uuid[], {m.Index}::int[], {m.Width}::int[], {m.Height}::int[], {m.ContentType}::text[],
                            {m.Bytes}::bigint[], {m.Checksum}::text[], {m.StorageKey}::text[], {m.CreatedAt}::timestamptz[], {m.Placeholder}::text[])
                            AS x(id, user_id, index, width, height, content_type, bytes, checksum, storage_key, created_at, placeholder)
                        WHERE EXISTS (SELECT 1 FROM q)),
                    e AS (
                        INSERT INTO credit_entries (user_id, kind, amount, quest_id, reason, created_at)
                        SELECT user_id, {capture}, cost - charged, id, {reason}, {now} FROM q),
                    s AS (
                        INSERT INTO quest_steps (quest_id, at, kind, run, detail, code)
                        SELECT id, {now}, {ended}, attempts, {stepDetail}, {costCode}::text FROM q WHERE (SELECT count(*) FROM gs) >= 0),
                    {QueuedWebhook(WebhookEventNames.Ended(QuestStatus.Succeeded), WebhookEvents.Completed, now)}
                    SELECT * FROM q
                    """, cancellationToken)).SingleOrDefault();
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
            {
                // Another run already stored this quest's images: it settled the quest, and this run stands down.
                return null;
            }
        });
        if (quest is not null)
        {
            quest.Images = [.. images];
        }

        return quest;
    }

    /// <summary>
    /// The run failed (or timed out): the quest ends, charged <paramref name="charge"/> (by default nothing: the whole
    /// reservation goes back; <see cref="QuestCharges.ForProviderFailure"/> when the provider bills the failed job, which
    /// the caller's message then says).
    /// </summary>
    public Task<Quest?> FailAsync(Guid questId, int run, string code, string message, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken,
        QuestStatus status = QuestStatus.Failed, QuestCharge charge = default)
    {
        return EndAsync(questId, QuestStateGraph.From(status, QuestStatus.Running), run, owner: null, status, code, message, charge,
            charge.Charged > 0 ? $"{status} after the provider's billing point: charged {charge.Charged}" : status.ToString(), steps, cancellationToken);
    }

    /// <summary>
    /// The owner's cancel reached the run: the quest ends as cancelled, charged <see cref="QuestCharges.ForCancel"/>
    /// (nothing before a provider accepted the job; what the provider bills after).
    /// </summary>
    public Task<Quest?> CancelRunAsync(Quest quest, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var charge = QuestCharges.ForCancel(quest);
        var message = charge.Charged == 0
            ? "You cancelled this quest. Nothing was charged."
            : $"You cancelled this quest after the provider had accepted it; the provider bills for the job, so {charge.Charged} of the {quest.Cost} reserved credits were charged.";
        return EndAsync(quest.Id, CancelRunFrom, quest.Attempts, owner: null, QuestStatus.Cancelled, ErrorCodes.Cancelled, message, charge,
            charge.Charged == 0 ? "Cancelled" : $"Cancelled after the provider accepted the job: charged {charge.Charged}", steps, cancellationToken);
    }
}
