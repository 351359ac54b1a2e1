using ImageGen.Api.Images;
using ImageGen.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The variant cache as a whole stays under its byte cap: one image asked in every size and format, or many images,
/// cannot fill the disk. The least recently served variants go first; originals are never touched.
/// </summary>
public sealed class VariantCacheTests : IDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "imagegen-cache-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Past_its_cap_the_cache_drops_the_least_recently_served_variants_and_keeps_every_original()
    {
        var store = new FileSystemImageStore(_root);
        var cache = Cache(store, capBytes: 1000);
        var image = Guid.NewGuid();
        var original = ImageKeys.KeyFor(image, "png");
        await store.SaveAsync(original, new byte[5000], "image/webp", Token);
        // Ten variants of 200 bytes each, made a minute apart: 2000 bytes against a cap of 1000.
        var variants = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var key = ImageKeys.VariantKeyFor(image, 100 + i, 80, "webp");
            await store.SaveAsync(key, new byte[200], "image/webp", Token);
            store.MarkUsed(key, _time.GetUtcNow().AddMinutes(i - 60));
            variants.Add(key);
        }

        // The oldest one is served now: it becomes the most recent.
        cache.Served(variants[0]);
        var deleted = cache.Sweep();

        Assert.Equal(6, deleted);
        var left = store.ListVariants().Select(v => v.Key).ToHashSet();
        Assert.Equal([variants[0], variants[7], variants[8], variants[9]], variants.Where(left.Contains));
        Assert.True(left.Sum(_ => 200) <= 900);
        Assert.NotNull(await store.OpenReadAsync(original, Token));
    }

    [Fact]
    public async Task Under_its_cap_nothing_is_deleted_and_a_recent_hit_writes_nothing()
    {
        var store = new FileSystemImageStore(_root);
        var cache = Cache(store, capBytes: 10_000);
        var key = ImageKeys.VariantKeyFor(Guid.NewGuid(), 256, 80, "webp");
        await store.SaveAsync(key, new byte[500], "image/webp", Token);
        var marked = _time.GetUtcNow().AddMinutes(-1);
        store.MarkUsed(key, marked);

        cache.Served(key);

        Assert.Equal(0, cache.Sweep());
        Assert.Equal(marked, store.LastUsed(key));
    }

    [Fact]
    public async Task Writing_a_tenth_of_the_cap_starts_a_sweep_without_waiting_for_the_schedule()
    {
        var store = new FileSystemImageStore(_root);
        var cache = Cache(store, capBytes: 1000);
        await cache.StartAsync(Token);
        try
        {
            var image = Guid.NewGuid();
            for (var i = 0; i < 8; i++)
            {
                var key = ImageKeys.VariantKeyFor(image, 100 + i, 80, "webp");
                await store.SaveAsync(key, new byte[200], "image/webp", Token);
                cache.Written(200);
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(Token);
            bound.CancelAfter(TimeSpan.FromSeconds(10));
            while (store.ListVariants().Sum(v => v.Bytes) > 1000)
            {
                await Task.Delay(20, bound.Token);
            }
        }
        finally
        {
            await cache.StopAsync(Token);
        }
    }

    private VariantCache Cache(FileSystemImageStore store, long capBytes) =>
        new(store, Options.Create(new ImageStoreOptions { Path = _root, VariantCacheBytes = capBytes }), _time, NullLogger<VariantCache>.Instance);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
