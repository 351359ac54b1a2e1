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
public sealed class QuestTransitions(ImageGenDbContext db, TimeProvider time)
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
                outcome = existing.RequestHash == idempotency.RequestHash ? new SubmitOutcome.Replayed(existing.QuestId) : new SubmitOutcome.KeyReused();
                return false;
            }

            if (balance < quest.Cost)
            {
                outcome = new SubmitOutcome.ShortOf(balance, quest.Cost);
                return false;
            }

            db.Quests.Add(quest);
            db.CreditEntries.Add(CreditLedger.Entry(quest.UserId, CreditEntryKind.Reserve, -quest.Cost, now, quest.Id, reason));
            if (idempotency is not null)
            {
                db.IdempotencyKeys.Add(new IdempotencyKey { UserId = quest.UserId, Key = idempotency.Key, RequestHash = idempotency.RequestHash, QuestId = quest.Id, CreatedAt = now });
            }

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

        var marked = await db.Quests.FromSql($"""
            UPDATE quests SET cancel_requested = TRUE WHERE id = {questId} AND user_id = {ownerId} AND status = {Running} RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
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
        var claimed = await db.Quests.FromSql($"""
            WITH q AS (
                UPDATE quests SET status = {Running}, lease_until = {until}, attempts = attempts + 1,
                    started_at = COALESCE(started_at, {now}), status_text = {starting}
                WHERE id = {questId} AND attempts < {maxRuns}
                    AND (status = {Queued} OR (status = {Running} AND lease_until < {now}))
                    AND (SELECT count(*) FROM quests r WHERE r.user_id = quests.user_id AND r.status = 'Running'
                        AND r.lease_until >= {now} AND r.id <> {questId}) < {maxRunningPerOwner}
                RETURNING *),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, duration_ms, detail)
                SELECT id, {now}, {started}, attempts, GREATEST(0, EXTRACT(EPOCH FROM ({now} - enqueued_at)) * 1000)::int, {Limit(worker, QuestStepLimits.MaxDetailLength)} FROM q)
            SELECT * FROM q
            """).AsNoTracking().ToListAsync(cancellationToken);
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

    /// <summary>Dates a waiting quest now, so the reconciler leaves it alone until the re-send interval passes.</summary>
    private async Task<ClaimOutcome> ParkAsync(Guid questId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await db.Quests.Where(q => q.Id == questId && q.Status == QuestStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(q => q.EnqueuedAt, now), cancellationToken);
        return new ClaimOutcome.OwnerBusy();
    }

    /// <summary>
    /// One of the owner's runs ended, so one of their waiting quests may start: the oldest, marked sent now and
    /// returned for the caller to add to the stream (null when none waits).
    /// </summary>
    public async Task<Guid?> NextWaitingOfAsync(Guid ownerId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var next = await db.Database.SqlQuery<Guid>($"""
            UPDATE quests SET enqueued_at = {now}
            WHERE id = (SELECT id FROM quests WHERE user_id = {ownerId} AND status = 'Queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        return next.Count == 1 ? next[0] : null;
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
        var text = Limit(statusText, QuestLimits.MaxStatusTextLength);
        return ApplyAsync(steps, () => db.Database.ExecuteSqlAsync($"""
            UPDATE quests SET progress = GREATEST(progress, {progress}), status_text = {text}
            WHERE id = {questId} AND attempts = {run} AND status = {Running}
            """, cancellationToken), cancellationToken);
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
        return ApplyAsync(steps, async () => (await db.Database.SqlQuery<int>($"""
            WITH q AS (
                UPDATE quests SET provider_job_id = {id}, provider_polling_url = {url}, provider_cost = {sane}::int
                WHERE id = {questId} AND attempts = {run} AND status = {Running} RETURNING id, attempts),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, code, detail) SELECT id, {now}, {kind}, attempts, {code}::text, {detail} FROM q)
            SELECT count(*)::int AS "Value" FROM q
            """).ToListAsync(cancellationToken)).Single(), cancellationToken);
    }

    /// <summary>Shutdown: the run gives the quest back to the queue (the caller adds a stream entry after this commits).</summary>
    public async Task<Quest?> HandBackAsync(Guid questId, int run, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string waiting = QuestStatusTexts.Waiting, kind = QuestStepKinds.HandedBack, detail = "worker shutting down";
        return await InTransactionAsync(steps, [], async () => (await db.Quests.FromSql($"""
            WITH q AS (
                UPDATE quests SET status = {Queued}, lease_until = NULL, status_text = {waiting}, enqueued_at = {now}
                WHERE id = {questId} AND attempts = {run} AND status = {Running} RETURNING *),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, detail) SELECT id, {now}, {kind}, attempts, {detail} FROM q)
            SELECT * FROM q
            """).AsNoTracking().ToListAsync(cancellationToken)).SingleOrDefault(), cancellationToken);
    }

    /// <summary>
    /// The run made its images: they are stored as rows, the quest succeeds, and the reservation is captured (what the
    /// provider billed, never more than reserved; see <see cref="QuestCharges.ForSuccess"/>), in one commit.
    /// </summary>
    public async Task<Quest?> SucceedAsync(Guid questId, int run, IReadOnlyList<QuestImage> images, int? billed, TimeSpan providerTime, long? seed,
        IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var ms = (int)Math.Min(int.MaxValue, providerTime.TotalMilliseconds);
        int? sane = QuestCharges.IsSane(billed) ? billed : null;
        string done = QuestStatusTexts.Done, succeeded = nameof(QuestStatus.Succeeded), capture = Kind(CreditEntryKind.Capture), ended = QuestStepKinds.Ended;
        // A figure no provider could bill (negative) is not believed: the reservation is charged, and the timeline says why.
        var insane = sane is null && billed is not null;
        string? costCode = insane ? "provider_cost_invalid" : null;
        var stepDetail = insane ? $"Succeeded; the provider reported a cost of {billed}, not believed: the reservation is charged" : succeeded;
        int? width = images.Count > 0 ? images[0].Width : null, height = images.Count > 0 ? images[0].Height : null;
        var quest = await InTransactionAsync(steps, images, async () => (await db.Quests.FromSql($"""
            WITH q AS (
                UPDATE quests SET status = {succeeded}, lease_until = NULL, progress = 1, status_text = {done}, completed_at = {now},
                    generation_milliseconds = {ms}, width = COALESCE(width, {width}::int), height = COALESCE(height, {height}::int),
                    seed = COALESCE(seed, {seed}::bigint)
                WHERE id = {questId} AND attempts = {run} AND status = {Running} RETURNING *),
            c AS (SELECT id, user_id, attempts, cost, LEAST(cost, COALESCE({sane}::int, cost)) AS charged FROM q),
            e AS (
                INSERT INTO credit_entries (user_id, kind, amount, quest_id, reason, created_at)
                SELECT user_id, {capture}, cost - charged, id, 'Charged ' || charged || ' of ' || cost || ' reserved', {now} FROM c),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, detail, code) SELECT id, {now}, {ended}, attempts, {stepDetail}, {costCode}::text FROM c)
            SELECT * FROM q
            """).AsNoTracking().ToListAsync(cancellationToken)).SingleOrDefault(), cancellationToken);
        if (quest is not null)
        {
            quest.Images = [.. images];
        }

        return quest;
    }

    /// <summary>The run failed (or timed out): the quest ends and its whole reservation goes back.</summary>
    public Task<Quest?> FailAsync(Guid questId, int run, string code, string message, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken,
        QuestStatus status = QuestStatus.Failed) =>
        EndAsync(questId, [Running], run, owner: null, status, code, message, charge: 0, status.ToString(), steps, cancellationToken);

    /// <summary>
    /// The owner's cancel reached the run: the quest ends as cancelled, charged <see cref="QuestCharges.ForCancel"/>
    /// (nothing before a provider accepted the job; what the provider bills after).
    /// </summary>
    public Task<Quest?> CancelRunAsync(Quest quest, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var charge = QuestCharges.ForCancel(quest);
        var message = charge == 0
            ? "You cancelled this quest. Nothing was charged."
            : $"You cancelled this quest after the provider had accepted it; the provider bills for the job, so {charge} of the {quest.Cost} reserved credits were charged.";
        return EndAsync(quest.Id, [Running], quest.Attempts, owner: null, QuestStatus.Cancelled, ErrorCodes.Cancelled, message, charge,
            charge == 0 ? "Cancelled" : $"Cancelled after the provider accepted the job: charged {charge}", steps, cancellationToken);
    }

    /// <summary>
    /// Ends a quest that is not finished, from outside any run (the reconciler, the dead-letter path); its reservation
    /// goes back. Null when it had ended already (only one of two callers at the same moment reports it).
    /// </summary>
    public Task<Quest?> EndUnfinishedAsync(Guid questId, QuestStatus status, string code, string message, CancellationToken cancellationToken) =>
        EndAsync(questId, [Queued, Running], run: null, owner: null, status, code, message, charge: 0, status.ToString(), [], cancellationToken);

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
        return (await db.Database.SqlQuery<int>($"""
            WITH q AS (
                UPDATE quests SET status = {Queued}, lease_until = NULL, status_text = {waiting}, enqueued_at = {enqueuedAt}
                WHERE status = {Running} AND lease_until < {now} RETURNING id, attempts),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, detail) SELECT id, {now}, {kind}, attempts, {detail} FROM q)
            SELECT count(*)::int AS "Value" FROM q
            """).ToListAsync(cancellationToken)).Single();
    }

    /// <summary>
    /// Queued and not taken since <paramref name="enqueuedBefore"/> (the stream entry may be lost): marks them sent
    /// again now and returns them, for the caller to add stream entries (duplicates are harmless: a worker must claim).
    /// </summary>
    public Task<List<Guid>> TakeStaleQueuedAsync(DateTimeOffset enqueuedBefore, int batch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.Database.SqlQuery<Guid>($"""
            UPDATE quests SET enqueued_at = {now}
            WHERE id IN (SELECT id FROM quests WHERE status = {Queued} AND enqueued_at <= {enqueuedBefore} ORDER BY enqueued_at LIMIT {batch} FOR UPDATE SKIP LOCKED)
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// One ending with its settlement: the status from one of <paramref name="from"/> (and the run, and the owner, when
    /// given) to <paramref name="to"/>, the ledger entry (a release, or a capture keeping <paramref name="charge"/>
    /// credits) and the timeline step, in one statement; the run's gathered steps in the same commit.
    /// </summary>
    private async Task<Quest?> EndAsync(Guid questId, string[] from, int? run, Guid? owner, QuestStatus to, string code, string message, int charge,
        string detail, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string status = to.ToString(), text = QuestStatusTexts.For(to)!, ended = QuestStepKinds.Ended;
        string release = Kind(CreditEntryKind.Release), capture = Kind(CreditEntryKind.Capture);
        string errorCode = Limit(code, QuestLimits.MaxErrorCodeLength), errorMessage = Limit(message, QuestLimits.MaxErrorMessageLength);
        var stepDetail = Limit(detail, QuestStepLimits.MaxDetailLength);
        var reason = Limit(charge > 0 ? $"{code}: charged {charge}" : code, CreditLimits.MaxReasonLength);
        return await InTransactionAsync(steps, [], async () => (await db.Quests.FromSql($"""
            WITH q AS (
                UPDATE quests SET status = {status}, lease_until = NULL, status_text = {text}, error_code = {errorCode},
                    error_message = {errorMessage}, completed_at = {now}
                WHERE id = {questId} AND status = ANY({from}) AND ({run}::int IS NULL OR attempts = {run}::int)
                    AND ({owner}::uuid IS NULL OR user_id = {owner}::uuid)
                RETURNING *),
            c AS (SELECT id, user_id, attempts, cost, LEAST(cost, GREATEST(0, {charge})) AS charged FROM q),
            e AS (
                INSERT INTO credit_entries (user_id, kind, amount, quest_id, reason, created_at)
                SELECT user_id, CASE WHEN charged > 0 THEN {capture} ELSE {release} END, cost - charged, id, {reason}, {now} FROM c),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, code, detail) SELECT id, {now}, {ended}, attempts, {errorCode}, {stepDetail} FROM c)
            SELECT * FROM q
            """).AsNoTracking().ToListAsync(cancellationToken)).SingleOrDefault(), cancellationToken);
    }

    /// <summary>Runs a conditional change and saves the run's steps in the same commit (the steps are history: kept either way).</summary>
    private Task<bool> ApplyAsync(IReadOnlyCollection<QuestStep> steps, Func<Task<int>> change, CancellationToken cancellationToken) =>
        InTransactionAsync(steps, [], async () => await change() == 1, applied => applied, cancellationToken);

    /// <summary>
    /// One transaction: the gathered steps (they happened first, so they come first on the timeline) and the images,
    /// then the change, then commit. A change that does not apply with images in hand rolls everything back (a run that
    /// lost its quest stores nothing). Retried as a whole by the execution strategy if the connection drops.
    /// </summary>
    private Task<Quest?> InTransactionAsync(IReadOnlyCollection<QuestStep> steps, IReadOnlyList<QuestImage> images, Func<Task<Quest?>> change,
        CancellationToken cancellationToken) =>
        InTransactionAsync(steps, images, change, quest => quest is not null, cancellationToken);

    private Task<T> InTransactionAsync<T>(IReadOnlyCollection<QuestStep> steps, IReadOnlyList<QuestImage> images, Func<Task<T>> change,
        Func<T, bool> applied, CancellationToken cancellationToken)
    {
        if (steps.Count == 0 && images.Count == 0)
        {
            // A single statement is its own transaction.
            return db.Database.CreateExecutionStrategy().ExecuteAsync(change);
        }

        return db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var step in steps)
            {
                step.Id = 0;
                step.Detail = step.Detail is null ? null : Limit(step.Detail, QuestStepLimits.MaxDetailLength);
                step.Code = step.Code is null ? null : Limit(step.Code, QuestLimits.MaxErrorCodeLength);
                db.QuestSteps.Add(step);
            }

            db.QuestImages.AddRange(images);
            db.Database.AutoSavepointsEnabled = false;
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (images.Count > 0 && IsUniqueViolation(e))
            {
                // Another run already stored this quest's images: it settled the quest, and this run stands down.
                await transaction.RollbackAsync(cancellationToken);
                return default!;
            }
            finally
            {
                db.Database.AutoSavepointsEnabled = true;
                db.ChangeTracker.Clear();
            }

            var result = await change();
            if (applied(result) || images.Count == 0)
            {
                await transaction.CommitAsync(cancellationToken);
            }
            else
            {
                await transaction.RollbackAsync(cancellationToken);
            }

            return result;
        });
    }

    private static bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation };

    private static string Kind(CreditEntryKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Text from outside (a provider, a worker's exception) cut to the column that stores it.</summary>
    public static string Limit(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>An Idempotency-Key with the fingerprint of the request body it came with.</summary>
public sealed record IdempotencyRequest(string Key, string RequestHash);
