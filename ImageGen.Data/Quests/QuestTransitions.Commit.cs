using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Quests;

/// <summary>How every transition commits: one conditional statement, its ledger entry and step, the run's steps, one transaction.</summary>
public sealed partial class QuestTransitions
{
    /// <summary>
    /// One ending with its settlement: the status from one of <paramref name="from"/> (and the run, and the owner, when
    /// given) to <paramref name="to"/>, the ledger entry (a release, or a capture keeping the charge's credits) and the
    /// timeline step, in one statement; the run's gathered steps in the same commit. A charge applies only while the quest
    /// still holds the reservation it was computed from; the quest stores what it was charged.
    /// </summary>
    private async Task<Quest?> EndAsync(Guid questId, string[] from, int? run, Guid? owner, QuestStatus to, string code, string message, QuestCharge charge,
        string detail, IReadOnlyCollection<QuestStep> steps, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string status = to.ToString(), text = QuestStatusTexts.For(to)!, ended = QuestStepKinds.Ended;
        var kind = Kind(charge.Charged > 0 ? CreditEntryKind.Capture : CreditEntryKind.Release);
        int charged = charge.Charged, reserved = charge.Reserved;
        string errorCode = Limit(code, QuestLimits.MaxErrorCodeLength), errorMessage = Limit(message, QuestLimits.MaxErrorMessageLength);
        var stepDetail = Limit(detail, QuestStepLimits.MaxDetailLength);
        var reason = Limit(charged > 0 ? $"{code}: charged {charged}" : code, CreditLimits.MaxReasonLength);
        return await InTransactionAsync(steps, async () => (await db.QuestsAsync($"""
            WITH q AS (
                UPDATE quests SET status = {status}, lease_until = NULL, status_text = {text}, error_code = {errorCode},
                    error_message = {errorMessage}, completed_at = {now}, charged = {charged}
                WHERE id = {questId} AND status = ANY({from}) AND ({run}::int IS NULL OR attempts = {run}::int)
                    AND ({owner}::uuid IS NULL OR user_id = {owner}::uuid) AND ({charged} = 0 OR cost = {reserved})
                RETURNING *),
            e AS (
                INSERT INTO credit_entries (user_id, kind, amount, quest_id, reason, created_at)
                SELECT user_id, {kind}, cost - charged, id, {reason}, {now} FROM q),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, code, detail) SELECT id, {now}, {ended}, attempts, {errorCode}, {stepDetail} FROM q),
            {QueuedWebhook(WebhookEventNames.Ended(to), WebhookEvents.Completed, now)}
            SELECT * FROM q
            """, cancellationToken)).SingleOrDefault(), cancellationToken);
    }

    /// <summary>
    /// The webhook delivery a change queues in its own statement: a <c>w</c> step over the changed quest <c>q</c> (which
    /// returns its id, owner, attempts, status, progress and webhook columns), to the quest's own URL or else its owner's endpoint,
    /// when the event is one their filter asks for; <paramref name="firstRunOnly"/> for a start, which a second run is not.
    /// </summary>
    private static SqlFragment QueuedWebhook(string type, WebhookEvents events, DateTimeOffset now, bool firstRunOnly = false) => new($"""
        w AS (
            INSERT INTO webhook_deliveries (id, user_id, quest_id, type, url, quest_status, progress, state, attempts, created_at, next_attempt_at)
            SELECT gen_random_uuid(), q.user_id, q.id, {type}, COALESCE(q.webhook_url, e.url), q.status, q.progress, 'pending', 0, {now}, {now}
            FROM q LEFT JOIN webhook_endpoints e ON e.user_id = q.user_id AND q.webhook_url IS NULL
            WHERE (NOT {firstRunOnly} OR q.attempts = 1)
                AND (CASE WHEN q.webhook_url IS NULL THEN e.events ELSE q.webhook_events END) & {(int)events} <> 0)
        """);

    /// <summary>Runs a conditional change and saves the run's steps in the same commit (the steps are history: kept either way).</summary>
    private Task<bool> ApplyAsync(IReadOnlyCollection<QuestStep> steps, Func<Task<int>> change, CancellationToken cancellationToken) =>
        InTransactionAsync(steps, async () => await change() == 1, cancellationToken);

    /// <summary>
    /// One transaction: the gathered steps (they happened first, so they come first on the timeline), then the change,
    /// then commit; the steps are history and kept whether the change applies or not. Retried as a whole by the
    /// execution strategy if the connection drops.
    /// </summary>
    private Task<T> InTransactionAsync<T>(IReadOnlyCollection<QuestStep> steps, Func<Task<T>> change, CancellationToken cancellationToken)
    {
        if (steps.Count == 0)
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

            db.Database.AutoSavepointsEnabled = false;
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            finally
            {
                db.Database.AutoSavepointsEnabled = true;
                db.ChangeTracker.Clear();
            }

            var result = await change();
            await transaction.CommitAsync(cancellationToken);
            return result;
        });
    }

    private static string Kind(CreditEntryKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Text from outside (a provider, a worker's exception) cut to the column that stores it.</summary>
    public static string Limit(string text, int max) => text.Length <= max ? text : text[..max];

    /// <summary>A run's gathered steps as one array per column, for an <c>unnest</c> in the statement that writes them.</summary>
    private sealed record GatheredSteps(DateTimeOffset[] At, string[] Kind, int[] Run, int?[] Attempt, int?[] DurationMs, int?[] HttpStatus,
        string?[] Code, string?[] Detail, string?[] Circuit, string?[] Sent)
    {
        public static GatheredSteps Of(IReadOnlyCollection<QuestStep> steps) => new(
            [.. steps.Select(s => s.At)], [.. steps.Select(s => s.Kind)], [.. steps.Select(s => s.Run)], [.. steps.Select(s => s.Attempt)],
            [.. steps.Select(s => s.DurationMs)], [.. steps.Select(s => s.HttpStatus)],
            [.. steps.Select(s => s.Code is null ? null : Limit(s.Code, QuestLimits.MaxErrorCodeLength))],
            [.. steps.Select(s => s.Detail is null ? null : Limit(s.Detail, QuestStepLimits.MaxDetailLength))],
            [.. steps.Select(s => s.Circuit)], [.. steps.Select(s => s.Sent)]);
    }

    /// <summary>A success's images as one array per column.</summary>
    private sealed record StoredImages(Guid[] Id, Guid[] UserId, int[] Index, int[] Width, int[] Height, string[] ContentType, long[] Bytes,
        string[] Checksum, string[] StorageKey, DateTimeOffset[] CreatedAt, string?[] Placeholder)
    {
        public static StoredImages Of(IReadOnlyList<QuestImage> images) => new(
            [.. images.Select(i => i.Id)], [.. images.Select(i => i.UserId)], [.. images.Select(i => i.Index)], [.. images.Select(i => i.Width)],
            [.. images.Select(i => i.Height)], [.. images.Select(i => i.ContentType)], [.. images.Select(i => i.Bytes)],
            [.. images.Select(i => i.Checksum)], [.. images.Select(i => i.StorageKey)], [.. images.Select(i => i.CreatedAt)],
            [.. images.Select(i => i.Placeholder)]);
    }
}
