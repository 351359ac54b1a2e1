using ImageGen.Core.Quests;

namespace ImageGen.Core.Storage;

/// <summary>An image in the owner's gallery, with what made it.</summary>
public sealed record ImageDto
{
    public required Guid Id { get; init; }
    public required Guid QuestId { get; init; }
    public required string Url { get; init; }
    public required IReadOnlyList<ImageVariantUrl> Variants { get; init; }
    public string? Placeholder { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required string ContentType { get; init; }
    public required long Bytes { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string Prompt { get; init; }
    public required string Model { get; init; }

    /// <summary>The model the quest asked for, when a fallback made the image; else null.</summary>
    public string? RequestedModel { get; init; }

    /// <summary>Marked a favourite by its owner (<c>PUT /api/images/{id}/favorite</c>).</summary>
    public bool Favorite { get; init; }

    /// <summary>Open to anyone through a public link (<c>POST /api/images/{id}/share</c>) until revoked.</summary>
    public bool Shared { get; init; }
    public required QuestParameters Parameters { get; init; }
    public long? Seed { get; init; }
    public required int Cost { get; init; }
    public int? GenerationMilliseconds { get; init; }
}

/// <summary>A kept upload (an image sent in to edit) as its owner sees it; <paramref name="ExpiresAt"/> is when it goes unless a quest uses it first (null once one has).</summary>
public sealed record UploadDto(Guid Id, string ContentType, int Width, int Height, long Bytes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt = null);

/// <summary>
/// A page of uploads, newest first (<c>?before=</c> the last id for the next), with what the account stores in all
/// (uploads and images) against its quota.
/// </summary>
public sealed record UploadPage(IReadOnlyList<UploadDto> Uploads, Guid? Next, long StoredBytes, long QuotaBytes);

public sealed record ImagePage(IReadOnlyList<ImageDto> Items, string? NextCursor);

/// <summary>The body of <c>POST /api/images/{id}/signed-url</c>: how long the URL lives, and optionally which variant.</summary>
[System.Text.Json.Serialization.JsonUnmappedMemberHandling(System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow)]
public sealed record SignedUrlRequest
{
    public const int DefaultExpiresIn = 3600;
    public const int MaxExpiresIn = 86_400;

    /// <summary>Seconds, 1 to 86400 (24 h); 3600 when left out.</summary>
    public int? ExpiresIn { get; init; }
    /// <summary>A width from <see cref="ImageVariant.Widths"/>; the original width when left out.</summary>
    public int? W { get; init; }
    public string? Fmt { get; init; }
    public int? Q { get; init; }
}

/// <summary>
/// A fresh link: <see cref="Url"/> for the variant asked for (the original when none was), <see cref="Variants"/> for
/// every smaller width (a srcset), all valid until <see cref="ExpiresAt"/>. <see cref="Width"/> and
/// <see cref="Height"/> are the original's.
/// </summary>
public sealed record SignedUrlResponse(string Url, DateTimeOffset ExpiresAt, IReadOnlyList<ImageVariantUrl> Variants, int Width, int Height);

/// <summary>
/// A public link to one image (<c>POST /api/images/{id}/share</c>): anyone with <paramref name="Url"/> sees the image
/// without an account until the owner revokes it. The token is shown this once; sharing again makes a new link and
/// ends the old one.
/// </summary>
public sealed record ShareLinkResponse(string Url, string Token, DateTimeOffset CreatedAt);

/// <summary>Several of the caller's images at once (bulk delete, bulk download): at most <see cref="MaxIds"/> ids.</summary>
public sealed record ImageIdsRequest
{
    public const int MaxIds = 200;

    public IReadOnlyList<Guid>? Ids { get; init; }
}

/// <summary>What a bulk delete did: the images deleted now, and the ids that named nothing of the caller's.</summary>
public sealed record BulkDeleteResponse(int Deleted, IReadOnlyList<Guid> NotFound);

/// <summary>A named set of the owner's images.</summary>
public sealed record CollectionDto(Guid Id, string Name, int ImageCount, DateTimeOffset CreatedAt);

/// <summary>A collection's name, to create or rename one.</summary>
public sealed record CollectionRequest(string? Name);
