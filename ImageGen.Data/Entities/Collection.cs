namespace ImageGen.Data.Entities;

/// <summary>A named set of its owner's images. An image may be in several; deleting a collection keeps its images.</summary>
public sealed class Collection
{
    public const int MaxNameLength = 80;

    /// <summary>How many collections one account may keep.</summary>
    public const int MaxPerUser = 200;

    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One image in one collection.</summary>
public sealed class CollectionImage
{
    public Guid CollectionId { get; set; }
    public Guid ImageId { get; set; }
    public DateTimeOffset AddedAt { get; set; }
}
