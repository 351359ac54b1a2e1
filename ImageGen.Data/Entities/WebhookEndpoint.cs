using ImageGen.Core.Webhooks;

namespace ImageGen.Data.Entities;

/// <summary>
/// An account's webhook settings: the signing secret (Standard Webhooks, <c>whsec_...</c>) and, optionally, a default
/// endpoint for quests that name none. After a rotation the previous secret keeps signing for a day, beside the new one.
/// </summary>
public sealed class WebhookEndpoint
{
    public Guid UserId { get; set; }

    /// <summary>
    /// Where the account's quests are sent when a quest names no webhook (looked up when each event happens, so a change
    /// applies to quests already running); null: only quests that name one.
    /// </summary>
    public string? Url { get; set; }
    public WebhookEvents Events { get; set; }
    public required string Secret { get; set; }
    public string? PreviousSecret { get; set; }
    public DateTimeOffset? RotatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
