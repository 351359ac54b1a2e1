using ImageGen.Core.Storage;
using ImageGen.Rendering;

namespace ImageGen.Api.Images;

/// <summary>
/// Makes and caches resized variants. A variant is rendered once, on its first request, and kept in the store beside its
/// original until <see cref="VariantCache"/> (or the object store's lifecycle rule) evicts it; at most one render per core runs at a time, and at most <see cref="MaxWaiting"/> more wait for one, so a
/// burst of first requests cannot starve the API: past that, <see cref="RenderQueueFullException"/> (a 503).
/// </summary>
public sealed class ImageDelivery(IImageStore store, VariantCache cache) : IDisposable
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
