namespace ImageGen.Data.Entities;

/// <summary>An image its owner sent in (for edits), cleaned and kept in the image store under <see cref="StorageKey"/>.</summary>
public sealed class Upload
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string StorageKey { get; set; }
    public required string ContentType { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public long Bytes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a quest first took it as an input; an upload no quest used expires (<c>Uploads:UnusedLifetime</c>).</summary>
    public DateTimeOffset? UsedAt { get; set; }
}
