using System.Globalization;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data.Entities;
using ImageGen.Rendering;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace ImageGen.Api.Images;

/// <summary>
/// Sends an image or one of its variants: checks a signed link, negotiates the format, answers conditional requests
/// with its strong validator, and streams the bytes or sends the browser to a store's own link. Makes and caches
/// resized variants: a variant is rendered once, on its first request, and kept in the store beside its
/// original until <see cref="VariantCache"/> (or the object store's lifecycle rule) evicts it; at most one render per core runs at a time, and at most <see cref="MaxWaiting"/> more wait for one, so a
/// burst of first requests cannot starve the API: past that, <see cref="RenderQueueFullException"/> (a 503).
/// </summary>
public sealed class ImageDelivery(IImageStore store, VariantCache cache, ImageUrlSigner signer, TimeProvider time) : IDisposable
{
    private static readonly int MaxWaiting = Environment.ProcessorCount * 8;
    private readonly SemaphoreSlim _renders = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private int _queued;

    /// <summary>
    /// A variant, made and stored on its first request: its key, whether it was already there, and its bytes when
    /// <paramref name="open"/> (a store that serves links itself needs only the key). Null when the original is gone.
    /// </summary>
    public async Task<StoredVariantResult?> VariantAsync(Guid imageId, string originalKey, int width, string format, int quality, bool open, CancellationToken cancellationToken)
    {
        quality = ImageVariant.EffectiveQuality(format, quality);
        var key = ImageKeys.VariantKeyFor(imageId, width, quality, ImageEncoding.Extension(ImageEncoding.ContentType(format)));
        if (await FindAsync(key, open, cancellationToken) is { } hit)
        {
            cache.Served(key);
            return hit;
        }

        if (Interlocked.Increment(ref _queued) > Environment.ProcessorCount + MaxWaiting)
        {
            Interlocked.Decrement(ref _queued);
            throw new RenderQueueFullException();
        }

        try
        {
            await _renders.WaitAsync(cancellationToken);
        }
        catch
        {
            Interlocked.Decrement(ref _queued);
            throw;
        }

        try
        {
            // Another request may have made it while this one waited.
            if (await FindAsync(key, open, cancellationToken) is { } madeMeanwhile)
            {
                return madeMeanwhile;
            }

            byte[] original;
            await using (var source = await store.OpenReadAsync(originalKey, cancellationToken))
            {
                if (source is null)
                {
                    return null;
                }

                using var buffer = new MemoryStream();
                await source.CopyToAsync(buffer, cancellationToken);
                original = buffer.ToArray();
            }

            var (bytes, _, _) = ImageVariants.Resize(original, width, format, quality);
            await store.SaveAsync(key, bytes, ImageEncoding.ContentType(format), cancellationToken);
            cache.Written(bytes.Length);
            return new StoredVariantResult(key, false, open ? new MemoryStream(bytes, writable: false) : null);
        }
        finally
        {
            _renders.Release();
            Interlocked.Decrement(ref _queued);
        }
    }

    /// <summary>The refusal of a signed link that does not hold (altered, or expired), or null with when it expires.</summary>
    public ProblemHttpResult? CheckLink(Guid imageId, ImageVariant variant, string? exp, string? sig, out long? expires)
    {
        expires = null;
        switch (signer.Check(imageId, variant.Name, exp, sig))
        {
            case SignatureCheck.Invalid:
                return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.InvalidSignature,
                    "This image link is not valid (altered, or signed for another size or format). Ask the API for a fresh one.");
            case SignatureCheck.Expired:
                return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.UrlExpired,
                    "This image link has expired. Ask for a fresh one: POST /api/images/{id}/signed-url.");
        }

        expires = long.Parse(exp!, NumberStyles.None, CultureInfo.InvariantCulture);
        return null;
    }

    /// <summary>
    /// The answer for an image the caller may read: its bytes as stored or a variant, 304 when the caller's copy is
    /// current, a redirect to a store that serves links itself, or a 503 when too many variants are being made; null
    /// when its file is gone.
    /// </summary>
    public async Task<Results<FileStreamHttpResult, RedirectHttpResult, StatusCodeHttpResult, ProblemHttpResult>?> SendAsync(
        QuestImage image, ImageVariant variant, long? expires, HttpContext http, CancellationToken cancellationToken)
    {
        // What to send: the stored bytes as they are, or a resized or re-encoded copy. Without ?fmt= the format
        // follows the browser's Accept header, so the answer varies by it.
        var negotiated = variant.Format is null && !variant.IsOriginal;
        var format = variant.Format ?? (negotiated ? (AcceptsWebp(http.Request) ? "webp" : "jpeg") : null);
        var width = Math.Min(variant.Width ?? image.Width, image.Width);
        var asStored = variant.IsOriginal
            || (width == image.Width && variant.Quality is null && ImageEncoding.ContentType(format!) == image.ContentType);
        var quality = ImageVariant.EffectiveQuality(format ?? "", variant.Quality ?? ImageVariant.DefaultQuality);
        var contentType = asStored ? image.ContentType : ImageEncoding.ContentType(format!);
        // Content never changes for an id and variant, so the checksum and the variant make a strong validator.
        var tag = new EntityTagHeaderValue(asStored
            ? $"\"{image.Checksum[..32]}\""
            : string.Create(CultureInfo.InvariantCulture, $"\"{image.Checksum[..32]}-w{width}q{quality}.{ImageEncoding.Extension(contentType)}\""));

        var headers = http.Response.Headers;
        headers.CacheControl = expires is { } until
            ? string.Create(CultureInfo.InvariantCulture, $"private, max-age={Math.Max(0, until - time.GetUtcNow().ToUnixTimeSeconds())}, immutable")
            : "private, no-cache";
        if (negotiated)
        {
            headers.Vary = "Accept";
        }

        headers.ETag = tag.ToString();
        if (EntityTagHeaderValue.TryParseList(http.Request.Headers.IfNoneMatch, out var matches) && matches.Any(m => m.Compare(tag, useStrongComparison: false) || m == EntityTagHeaderValue.Any))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        // A store that serves links itself gets the request: the variant is made once if missing, then the browser
        // is sent to the store's own signed link, which expires when this one does.
        var links = store as IDirectLinkStore;
        Stream? content = null;
        string? key;
        if (asStored)
        {
            key = image.StorageKey;
            content = links is null ? await store.OpenReadAsync(key, cancellationToken) : null;
        }
        else
        {
            StoredVariantResult? made;
            try
            {
                made = await VariantAsync(image.Id, image.StorageKey, width, format!, quality, open: links is null, cancellationToken);
            }
            catch (RenderQueueFullException)
            {
                headers.CacheControl = "no-store";
                headers.RetryAfter = "2";
                return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable,
                    "Too many image sizes are being made right now; try again in a moment (the original is always available).");
            }

            key = made?.Key;
            content = made?.Content;
            headers["X-Cache"] = made is { Cached: true } ? "hit" : "miss";
        }

        if (links is not null && key is not null && (!asStored || await store.ExistsAsync(key, cancellationToken)))
        {
            var linkExpires = DateTimeOffset.FromUnixTimeSeconds(expires ?? signer.DefaultExpiry().ToUnixTimeSeconds());
            headers.ETag = default;
            return TypedResults.Redirect(links.LinkFor(key, linkExpires).ToString());
        }

        if (content is null)
        {
            headers.CacheControl = "no-store";
            return null;
        }

        return TypedResults.Stream(content, contentType, lastModified: image.CreatedAt, entityTag: tag, enableRangeProcessing: asStored);
    }

    private static bool AcceptsWebp(HttpRequest request) =>
        request.Headers.Accept.Any(a => a is not null && a.Contains("image/webp", StringComparison.OrdinalIgnoreCase));

    private async Task<StoredVariantResult?> FindAsync(string key, bool open, CancellationToken cancellationToken)
    {
        if (!open)
        {
            return await store.ExistsAsync(key, cancellationToken) ? new StoredVariantResult(key, true, null) : null;
        }

        return await store.OpenReadAsync(key, cancellationToken) is { } stream ? new StoredVariantResult(key, true, stream) : null;
    }

    public void Dispose() => _renders.Dispose();
}

/// <summary>A stored variant: its key, whether it was there before this request, and its bytes when they were asked for.</summary>
public sealed record StoredVariantResult(string Key, bool Cached, Stream? Content);

/// <summary>Every render slot is busy and the queue for them is full: try again in a moment.</summary>
public sealed class RenderQueueFullException() : Exception("Too many image variants are being made right now.");
