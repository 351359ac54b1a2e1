using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Webhooks;

/// <summary>
/// The webhook outbox as the dispatcher sees it: the quest transitions write a row with the quest's change; here rows
/// that are due are taken (each by one dispatcher, for a while), and each attempt is recorded with its outcome, on the
/// row (the owner's delivery log) and on the quest's timeline (the operators' debug view), through the transitions.
/// </summary>
public sealed class WebhookOutbox(ImageGenDbContext db, QuestTransitions transitions, TimeProvider time)
{
    internal const string Pending = "pending";

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
    /// One attempt's outcome: delivered, retried at <paramref name="retryAt"/>, or given up, on the row and on the quest's
    /// timeline (written by <see cref="QuestTransitions.RecordWebhookAttemptAsync"/>, the one writer of timeline steps).
    /// False when the attempt no longer held the row (its hold lapsed and another dispatcher took it).
    /// </summary>
    public Task<bool> RecordAsync(WebhookDelivery delivery, string? payload, WebhookAttemptResult result, DateTimeOffset? retryAt,
        CancellationToken cancellationToken) =>
        transitions.RecordWebhookAttemptAsync(delivery, payload, result, retryAt, cancellationToken);
}
/// <summary>What one attempt got: a status code (null when no answer came), whether it counts as delivered, and why not.</summary>
public sealed record WebhookAttemptResult(int? StatusCode, bool Delivered, string? Error, TimeSpan Duration);
