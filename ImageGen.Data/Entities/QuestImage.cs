namespace ImageGen.Data.Entities;

/// <summary>An image a quest produced. The bytes live in the image store under <see cref="StorageKey"/>.</summary>
public sealed class QuestImage
{
    public Guid Id { get; set; }
    public Guid QuestId { get; set; }

    /// <summary>The owner, copied from the quest so image reads check ownership without a join.</summary>
    public Guid UserId { get; set; }
    public int Index { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public required string ContentType { get; set; }
    public long Bytes { get; set; }

    /// <summary>SHA-256 of the bytes, lower-case hex.</summary>
    public required string Checksum { get; set; }
    public required string StorageKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A tiny blurred preview (a data URI of a few hundred bytes), shown while the image loads.</summary>
    public string? Placeholder { get; set; }

    /// <summary>When the owner deleted it: its files are gone, the row stays so links to it say so (and the ledger keeps its quest).</summary>
    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>When its owner marked it a favourite; null when not one.</summary>
    public DateTimeOffset? FavoriteAt { get; set; }
}
