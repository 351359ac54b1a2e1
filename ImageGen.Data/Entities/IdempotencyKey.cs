namespace ImageGen.Data.Entities;

/// <summary>
/// A client's Idempotency-Key for one submit: the same key with the same body returns the same quest; with another
/// body it is refused. Keys are per user and kept at least 24 hours.
/// </summary>
public sealed class IdempotencyKey
{
    public Guid UserId { get; set; }
    public required string Key { get; set; }

    /// <summary>SHA-256 of the request body as validated.</summary>
    public required string RequestHash { get; set; }
    public Guid QuestId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
