namespace ImageGen.Data.Entities;

/// <summary>
/// A public link to one image: anyone holding the token sees the image, no account needed, until its owner revokes it.
/// Only the token's SHA-256 is kept, so the table alone opens nothing.
/// </summary>
public sealed class ImageShare
{
    public Guid Id { get; set; }
    public Guid ImageId { get; set; }

    /// <summary>The image's owner, who alone made and may revoke the link.</summary>
    public Guid UserId { get; set; }

    /// <summary>SHA-256 of the token, lower-case hex.</summary>
    public required string TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the owner took the link back; from then on it answers as if it never existed.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}
