namespace ImageGen.Data.Entities;

/// <summary>Where operators are told of alerts: an email address, or a webhook (Slack-compatible JSON, signed).</summary>
public sealed class AlertChannel
{
    /// <summary>The most channels kept: every alert goes to each.</summary>
    public const int MaxChannels = 20;

    public Guid Id { get; set; }

    /// <summary><see cref="ImageGen.Core.Operations.AlertChannelKinds"/>: <c>email</c> or <c>webhook</c>.</summary>
    public required string Kind { get; set; }

    /// <summary>The email address, or the webhook's URL.</summary>
    public required string Target { get; set; }

    /// <summary>A webhook's signing secret (Standard Webhooks, <c>whsec_...</c>); null for email.</summary>
    public string? Secret { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public Guid CreatedBy { get; set; }
}

/// <summary>
/// One message to one channel: an alert that fired or resolved, or a test. Pending until sent (or given up after the
/// last retry); the rows are the delivery log the monitoring page shows, and what alert grouping reads back.
/// </summary>
public sealed class AlertDelivery
{
    public Guid Id { get; set; }
    public Guid ChannelId { get; set; }

    /// <summary>The alert's key (<c>success_rate:openai</c>), or <c>test</c>.</summary>
    public required string AlertKey { get; set; }

    /// <summary><see cref="ImageGen.Core.Operations.AlertEvents"/>: fired, resolved or test.</summary>
    public required string Event { get; set; }
    public required string Message { get; set; }

    /// <summary><see cref="ImageGen.Core.Operations.AlertDeliveryStatus"/>: pending, sent or failed.</summary>
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
}
