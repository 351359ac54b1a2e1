using ImageGen.Core.Storage;
using ImageGen.Rendering;

namespace ImageGen.Api.Images;

/// <summary>
/// Makes and caches resized variants. A variant is rendered once, on its first request, and kept on disk beside its
/// original until <see cref="VariantCache"/> evicts it; at most one render per core runs at a time, and at most <see cref="MaxWaiting"/> more wait for one, so a
/// burst of first requests cannot starve the API: past that, <see cref="RenderQueueFullException"/> (a 503).
/// </summary>
public sealed class ImageDelivery(IImageStore store, VariantCache cache) : IDisposable
{
    private static readonly int MaxWaiting = Environment.ProcessorCount * 8;
    private readonly SemaphoreSlim _renders = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private int _queued;

    /// <summary>The variant's bytes and whether they came from the cache; null when the original is gone.</summary>
    public async Task<(Stream Content, bool Cached)?> OpenVariantAsync(Guid imageId, string originalKey, int width, string format, int quality, CancellationToken cancellationToken)
    {
        quality = ImageVariant.EffectiveQuality(format, quality);
        var key = FileSystemImageStore.VariantKeyFor(imageId, width, quality, ImageEncoding.Extension(ImageEncoding.ContentType(format)));
        if (store.OpenRead(key) is { } cached)
        {
            cache.Served(key);
            return (cached, true);
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
            if (store.OpenRead(key) is { } madeMeanwhile)
            {
                return (madeMeanwhile, true);
            }

            byte[] original;
            await using (var source = store.OpenRead(originalKey))
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
            await store.SaveAsync(key, bytes, cancellationToken);
            cache.Written(bytes.Length);
            return (new MemoryStream(bytes, writable: false), false);
        }
        finally
        {
            _renders.Release();
            Interlocked.Decrement(ref _queued);
        }
    }

    public void Dispose() => _renders.Dispose();
}

/// <summary>Every render slot is busy and the queue for them is full: try again in a moment.</summary>
public sealed class RenderQueueFullException() : Exception("Too many image variants are being made right now.");
