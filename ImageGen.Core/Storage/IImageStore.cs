namespace ImageGen.Core.Storage;

/// <summary>Where image bytes live. Keys are made by <see cref="ImageKeys"/>, never taken from user input.</summary>
public interface IImageStore
{
    /// <summary>Writes the bytes so that a reader sees all of them or nothing (never a half-written file).</summary>
    Task SaveAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken);

    /// <summary>Opens the bytes for reading, or returns null when there are none.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Whether the key holds bytes (without reading them).</summary>
    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes everything stored for one image: the original and each variant. Returns how many went.</summary>
    Task<int> DeleteImageAsync(Guid imageId, CancellationToken cancellationToken);
}

/// <summary>
/// A store that browsers can read from directly (an object store): a link it signs opens one object until it
/// expires, and the store itself checks it, so image bytes never pass through the API.
/// </summary>
public interface IDirectLinkStore
{
    /// <summary>A link that opens <paramref name="key"/> until <paramref name="expires"/>; the same for the same inputs within a few minutes.</summary>
    Uri LinkFor(string key, DateTimeOffset expires);
}

/// <summary>The store could not be reached or failed (not: the key is missing). Nothing was half-written; try again.</summary>
public sealed class ImageStoreUnavailableException(Exception inner) : Exception("The image store is unavailable: " + inner.Message, inner);
