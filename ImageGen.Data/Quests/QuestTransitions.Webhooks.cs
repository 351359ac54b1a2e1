using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data.Entities;
using ImageGen.Data.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Quests;

/// <summary>A webhook delivery's attempt: its row in the outbox and its step on the quest's timeline, in one statement.</summary>
public sealed partial class QuestTransitions
{
    /// <summary>
    /// One attempt's outcome: delivered, retried at <paramref name="retryAt"/>, or given up (no retry left, or the
    /// receiver said the endpoint is gone), on the outbox row and as a <c>webhook</c> step of the quest. The body is kept
    /// on the first attempt, so every retry sends the same bytes. False when the attempt no longer held the row (its hold
    /// lapsed and another dispatcher took it).
    /// </summary>
    public async Task<bool> RecordWebhookAttemptAsync(WebhookDelivery delivery, string? payload, WebhookAttemptResult result, DateTimeOffset? retryAt,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var state = (result.Delivered ? WebhookDeliveryState.Delivered : retryAt is null ? WebhookDeliveryState.Failed : WebhookDeliveryState.Pending)
            .ToString().ToLowerInvariant();
        DateTimeOffset? deliveredAt = result.Delivered ? now : null;
        var error = result.Error is null ? null : Limit(result.Error, WebhookLimits.MaxErrorLength);
        var ms = (int)Math.Min(int.MaxValue, result.Duration.TotalMilliseconds);
        var kind = QuestStepKinds.Webhook;
        var outcome = result.Delivered ? "delivered" : retryAt is { } next ? $"retry at {next:HH:mm:ss}" : "given up";
        var detail = Limit($"{delivery.Type} to {Host(delivery.Url)}: {result.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? error}; {outcome}",
            QuestStepLimits.MaxDetailLength);
        var code = result.Delivered ? null : result.StatusCode is null ? "webhook_unreachable" : "webhook_refused";
        return (await db.Database.SqlQuery<int>($"""
            WITH d AS (
                UPDATE webhook_deliveries SET payload = COALESCE(payload, {payload}::text), state = {state}, delivered_at = {deliveredAt},
                    last_status_code = {result.StatusCode}::int, last_error = {error}::text,
                    next_attempt_at = COALESCE({retryAt}::timestamptz, next_attempt_at),
                    attempt_log = attempt_log || jsonb_build_array(jsonb_build_object(
                        'at', {now}::timestamptz, 'status', {result.StatusCode}::int, 'error', {error}::text, 'ms', {ms}))
                WHERE id = {delivery.Id} AND attempts = {delivery.Attempts} AND state = {WebhookOutbox.Pending}
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
