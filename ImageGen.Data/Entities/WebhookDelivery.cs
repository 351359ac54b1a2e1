using ImageGen.Core.Quests;

namespace ImageGen.Data.Entities;

/// <summary>
/// One event of a quest on its way to a webhook: the outbox row written in the same commit as the quest's change, then
/// sent (at least once) by the dispatcher, retried with backoff, and kept as the owner's delivery log.
/// </summary>
public sealed class WebhookDelivery
{
    /// <summary>Also the <c>webhook-id</c> a receiver de-duplicates on (<c>msg_</c> and the id).</summary>
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public Guid QuestId { get; set; }

    /// <summary><c>quest.started</c>, <c>quest.progress</c>, <c>quest.succeeded</c>, ...</summary>
    public required string Type { get; set; }
    public required string Url { get; set; }

    /// <summary>The quest as it was when the event happened (sent, not the quest's later state).</summary>
    public QuestStatus QuestStatus { get; set; }
    public double Progress { get; set; }

    public WebhookDeliveryState State { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }

    /// <summary>The body as first sent; every retry sends the same bytes.</summary>
    public string? Payload { get; set; }

    /// <summary>Every attempt (JSON array of <c>{at, status, error, ms}</c>), for the delivery log.</summary>
    public string AttemptLog { get; set; } = "[]";
}

public enum WebhookDeliveryState
{
    Pending,
    Delivered,
    Failed,
}
