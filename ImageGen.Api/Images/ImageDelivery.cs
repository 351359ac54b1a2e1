using ImageGen.Core.Storage;
using ImageGen.Rendering;

namespace ImageGen.Api.Images;

/// <summary>
/// Makes and caches resized variants. A variant is rendered once, on its first request, and kept on disk beside its
/// original; at most one render per core runs at a time, so a burst of first requests cannot starve the API.
/// </summary>
public sealed class ImageDelivery(IImageStore store) : IDisposable
{
    private readonly SemaphoreSlim _renders = new(Environment.ProcessorCount, Environment.ProcessorCount);

    /// <summary>The variant's bytes and whether they came from the cache; null when the original is gone.</summary>
    public async Task<(Stream Content, bool Cached)?> OpenVariantAsync(Guid imageId, string originalKey, int width, string format, int quality, CancellationToken cancellationToken)
    {
        var key = FileSystemImageStore.VariantKeyFor(imageId, width, quality, ImageEncoding.Extension(ImageEncoding.ContentType(format)));
        if (store.OpenRead(key) is { } cached)
        {
            return (cached, true);
        }

        await _renders.WaitAsync(cancellationToken);
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
            return (new MemoryStream(bytes, writable: false), false);
        }
        finally
        {
            _renders.Release();
        }
    }

    public void Dispose() => _renders.Dispose();
}
