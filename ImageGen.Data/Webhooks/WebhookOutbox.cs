using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Webhooks;

/// <summary>
/// The webhook outbox as the dispatcher sees it: the quest transitions write a row with the quest's change; here rows
/// that are due are taken (each by one dispatcher, for a while), and each attempt is recorded with its outcome, on the
/// row (the owner's delivery log) and on the quest's timeline (the operators' debug view).
/// </summary>
public sealed class WebhookOutbox(ImageGenDbContext db, TimeProvider time)
{
    private const string Pending = "pending";

    /// <summary>
    /// Up to <paramref name="batch"/> due deliveries, oldest first, counted as attempted and held for <paramref name="hold"/>:
    /// another dispatcher takes one again only if this one died without recording it.
    /// </summary>
    public Task<List<WebhookDelivery>> TakeDueAsync(int batch, TimeSpan hold, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var until = now + hold;
        return db.WebhookDeliveries.FromSql($"""
            UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = {until}
            WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = {Pending} AND next_attempt_at <= {now}
                ORDER BY next_attempt_at LIMIT {batch} FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
    }

    /// <summary>Forgets deliveries that ended (delivered or given up) before <paramref name="before"/>, a batch at a time; returns how many.</summary>
    public Task<int> PruneAsync(DateTimeOffset before, int batch, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"""
            DELETE FROM webhook_deliveries WHERE id IN (
                SELECT id FROM webhook_deliveries WHERE state <> {Pending} AND created_at < {before} LIMIT {batch})
            """, cancellationToken);

    /// <summary>The account's webhook settings (its secrets), or null.</summary>
    public Task<WebhookEndpoint?> EndpointAsync(Guid userId, CancellationToken cancellationToken) =>
        db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.UserId == userId, cancellationToken);

    /// <summary>
    /// One attempt's outcome: delivered, retried at <paramref name="retryAt"/>, or given up (no retry left, or the
    /// receiver said the endpoint is gone). The body is kept on the first attempt, so every retry sends the same bytes.
    /// False when the attempt no longer held the row (its hold lapsed and another dispatcher took it).
    /// </summary>
    public async Task<bool> RecordAsync(WebhookDelivery delivery, string? payload, WebhookAttemptResult result, DateTimeOffset? retryAt,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var state = (result.Delivered ? WebhookDeliveryState.Delivered : retryAt is null ? WebhookDeliveryState.Failed : WebhookDeliveryState.Pending)
            .ToString().ToLowerInvariant();
        DateTimeOffset? deliveredAt = result.Delivered ? now : null;
        var error = result.Error is null ? null : QuestTransitions.Limit(result.Error, WebhookLimits.MaxErrorLength);
        var ms = (int)Math.Min(int.MaxValue, result.Duration.TotalMilliseconds);
        var kind = QuestStepKinds.Webhook;
        var outcome = result.Delivered ? "delivered" : retryAt is { } next ? $"retry at {next:HH:mm:ss}" : "given up";
        var detail = QuestTransitions.Limit($"{delivery.Type} to {Host(delivery.Url)}: {result.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? error}; {outcome}",
            QuestStepLimits.MaxDetailLength);
        var code = result.Delivered ? null : result.StatusCode is null ? "webhook_unreachable" : "webhook_refused";
        return (await db.Database.SqlQuery<int>($"""
            WITH d AS (
                UPDATE webhook_deliveries SET payload = COALESCE(payload, {payload}::text), state = {state}, delivered_at = {deliveredAt},
                    last_status_code = {result.StatusCode}::int, last_error = {error}::text,
                    next_attempt_at = COALESCE({retryAt}::timestamptz, next_attempt_at),
                    attempt_log = attempt_log || jsonb_build_array(jsonb_build_object(
                        'at', {now}::timestamptz, 'status', {result.StatusCode}::int, 'error', {error}::text, 'ms', {ms}))
                WHERE id = {delivery.Id} AND attempts = {delivery.Attempts} AND state = {Pending}
                RETURNING quest_id, attempts),
            s AS (
                INSERT INTO quest_steps (quest_id, at, kind, run, attempt, duration_ms, http_status, code, detail)
                SELECT d.quest_id, {now}, {kind}, q.attempts, d.attempts, {ms}, {result.StatusCode}::int, {code}::text, {detail}
                FROM d JOIN quests q ON q.id = d.quest_id)
            SELECT count(*)::int AS "Value" FROM d
            """).ToListAsync(cancellationToken)).Single() == 1;
    }

    private static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : "?";
}

/// <summary>What one attempt got: a status code (null when no answer came), whether it counts as delivered, and why not.</summary>
public sealed record WebhookAttemptResult(int? StatusCode, bool Delivered, string? Error, TimeSpan Duration);
