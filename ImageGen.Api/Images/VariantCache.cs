using ImageGen.Core.Storage;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Images;

/// <summary>
/// Keeps the variant cache under <see cref="ImageStoreOptions.VariantCacheBytes"/>: a variant served is marked used
/// (at most once per <see cref="MarkEvery"/>, so hits cost no write), and a sweep deletes the least recently used
/// variants until the cache is at 90% of its cap. Sweeps run at start, every <see cref="SweepEvery"/>, and early once
/// this instance has written a tenth of the cap since the last one; every API instance may sweep the shared store
/// (deletes are idempotent). Originals are never touched. A store that expires variants by itself (no
/// <see cref="IVariantCacheStore"/>) is left alone.
/// </summary>
public sealed partial class VariantCache(IImageStore store, IOptions<ImageStoreOptions> options, TimeProvider time, ILogger<VariantCache> logger)
    : BackgroundService
{
    public static readonly TimeSpan MarkEvery = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(30);

    private readonly IVariantCacheStore? _cache = store as IVariantCacheStore;
    private readonly SemaphoreSlim _sweepAsked = new(0, 1);
    private readonly Lock _sweeping = new();
    private long _writtenSinceSweep;

    private long Cap => options.Value.VariantCacheBytes;

    public void Served(string key)
    {
        if (_cache is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (_cache.LastUsed(key) is { } last && now - last >= MarkEvery)
        {
            _cache.MarkUsed(key, now);
        }
    }

    public void Written(long bytes)
    {
        if (_cache is not null && Interlocked.Add(ref _writtenSinceSweep, bytes) >= Cap / 10 && _sweepAsked.CurrentCount == 0)
        {
            try
            {
                _sweepAsked.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already asked.
            }
        }
    }

    /// <summary>Deletes least recently used variants while the cache is over its cap; returns how many.</summary>
    public int Sweep()
    {
        if (_cache is null)
        {
            return 0;
        }

        lock (_sweeping)
        {
            Interlocked.Exchange(ref _writtenSinceSweep, 0);
            var variants = _cache.ListVariants().ToList();
            var total = variants.Sum(v => v.Bytes);
            if (total <= Cap)
            {
                return 0;
            }

            var target = Cap / 10 * 9;
            var deleted = 0;
            foreach (var variant in variants.OrderBy(v => v.LastUsed))
            {
                if (total <= target)
                {
                    break;
                }

                store.DeleteAsync(variant.Key, CancellationToken.None).GetAwaiter().GetResult();
                total -= variant.Bytes;
                deleted++;
            }

            LogSwept(logger, deleted, total, Cap);
            return deleted;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_cache is null)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Run(Sweep, stoppingToken);
            }
            catch (IOException e)
            {
                LogSweepFailed(logger, e);
            }

            await _sweepAsked.WaitAsync(SweepEvery, stoppingToken);
        }
    }

    public override void Dispose()
    {
        _sweepAsked.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Variant cache swept: {Deleted} least recently used variants deleted, {Bytes} bytes kept (cap {Cap})")]
    private static partial void LogSwept(ILogger logger, int deleted, long bytes, long cap);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Variant cache sweep failed; the next one tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
