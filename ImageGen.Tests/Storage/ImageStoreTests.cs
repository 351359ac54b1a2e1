using System.Net;
using ImageGen.Core.Storage;
using ImageGen.Data.Storage;

namespace ImageGen.Tests.Storage;

/// <summary>What every image store does, run against each: the filesystem and an S3-compatible object store.</summary>
public abstract class ImageStoreTests
{
    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    protected abstract IImageStore Store { get; }

    [Fact]
    public async Task Saved_bytes_read_back_exist_and_are_deleted()
    {
        var key = ImageKeys.KeyFor(Guid.CreateVersion7(), "png");
        byte[] bytes = [1, 2, 3, 4, 5];

        await Store.SaveAsync(key, bytes, "image/png", Token);

        Assert.True(await Store.ExistsAsync(key, Token));
        Assert.Equal(bytes, await ReadAsync(key));
        await Store.DeleteAsync(key, Token);
        Assert.False(await Store.ExistsAsync(key, Token));
        Assert.Null(await Store.OpenReadAsync(key, Token));
    }

    [Fact]
    public async Task A_missing_image_reads_as_null() =>
        Assert.Null(await Store.OpenReadAsync(ImageKeys.KeyFor(Guid.CreateVersion7(), "png"), Token));

    [Fact]
    public async Task Deleting_an_image_deletes_its_original_and_every_variant_and_nothing_of_another()
    {
        var image = Guid.CreateVersion7();
        var other = Guid.CreateVersion7();
        string[] keys = [ImageKeys.KeyFor(image, "png"), ImageKeys.VariantKeyFor(image, 256, 80, "webp"), ImageKeys.VariantKeyFor(image, 64, 0, "png")];
        foreach (var key in keys.Append(ImageKeys.KeyFor(other, "png")))
        {
            await Store.SaveAsync(key, new byte[10], "image/png", Token);
        }

        Assert.Equal(3, await Store.DeleteImageAsync(image, Token));

        foreach (var key in keys)
        {
            Assert.False(await Store.ExistsAsync(key, Token));
        }

        Assert.True(await Store.ExistsAsync(ImageKeys.KeyFor(other, "png"), Token));
        Assert.Equal(0, await Store.DeleteImageAsync(image, Token));
    }

    [Fact]
    public void Ids_made_in_the_same_millisecond_spread_over_shards()
    {
        // UUIDv7 starts with the time: sharding on it put a whole day in one place.
        var now = DateTimeOffset.UtcNow;
        var shards = Enumerable.Range(0, 200).Select(_ => ImageKeys.ShardOf(Guid.CreateVersion7(now))).ToHashSet();
        Assert.True(shards.Count > 100, $"{shards.Count} shards for 200 ids");
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("ab/../../secret.png")]
    [InlineData("")]
    public async Task Keys_that_are_not_ours_never_reach_the_store(string key) =>
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key, Token));

    protected async Task<byte[]> ReadAsync(string key)
    {
        await using var stream = await Store.OpenReadAsync(key, Token);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Token);
        return copy.ToArray();
    }
}

public sealed class FileSystemImageStoreTests : ImageStoreTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "imagegen-store-" + Guid.NewGuid().ToString("N"));
    private FileSystemImageStore? _store;

    protected override IImageStore Store => _store ??= new FileSystemImageStore(_root);

    [Fact]
    public async Task A_write_leaves_no_temporary_files()
    {
        await Store.SaveAsync(ImageKeys.KeyFor(Guid.CreateVersion7(), "png"), new byte[100], "image/png", Token);
        Assert.Single(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Images_stored_under_the_old_shard_are_still_deleted_whole()
    {
        var image = Guid.CreateVersion7();
        var name = image.ToString("N");
        var old = Path.Combine(_root, name[..2]);
        Directory.CreateDirectory(old);
        await File.WriteAllBytesAsync(Path.Combine(old, name + ".png"), new byte[10], Token);
        await Store.SaveAsync(ImageKeys.VariantKeyFor(image, 256, 80, "webp"), new byte[10], "image/webp", Token);

        Assert.Equal(2, await Store.DeleteImageAsync(image, Token));
        Assert.Empty(Directory.EnumerateFiles(_root, name + "*", SearchOption.AllDirectories));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

/// <summary>The object store against a real S3-compatible server that checks SigV4, as browsers will meet it.</summary>
public sealed class ObjectImageStoreTests(LocalObjectStoreServer server) : ImageStoreTests, IClassFixture<LocalObjectStoreServer>, IDisposable
{
    private readonly HttpClient _browser = new() { Timeout = TimeSpan.FromSeconds(10) };
    private S3ImageStore? _store;

    protected override IImageStore Store => _store ??= new S3ImageStore(server.Options, TimeProvider.System);

    [Fact]
    public async Task A_signed_link_opens_the_object_with_its_type_and_an_altered_one_is_refused_by_the_store()
    {
        var key = ImageKeys.KeyFor(Guid.CreateVersion7(), "png");
        byte[] bytes = [0x89, 0x50, 0x4e, 0x47, 1, 2, 3];
        await Store.SaveAsync(key, bytes, "image/png", Token);
        var link = ((IDirectLinkStore)Store).LinkFor(key, DateTimeOffset.UtcNow.AddMinutes(10));

        Assert.Equal(new Uri(server.Options.ServiceUrl).Authority, link.Authority);
        using (var ok = await _browser.GetAsync(link, Token))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("image/png", ok.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes, await ok.Content.ReadAsByteArrayAsync(Token));
        }

        var text = link.ToString();
        var at = text.IndexOf("X-Amz-Signature=", StringComparison.Ordinal) + "X-Amz-Signature=".Length;
        var altered = text[..at] + (text[at] == 'a' ? 'b' : 'a') + text[(at + 1)..];
        using (var refused = await _browser.GetAsync(altered, Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // A link for one object opens no other, even with the same signature.
        var other = ImageKeys.KeyFor(Guid.CreateVersion7(), "png");
        await Store.SaveAsync(other, bytes, "image/png", Token);
        using (var borrowed = await _browser.GetAsync(text.Replace(key.Split('/')[1], other.Split('/')[1], StringComparison.Ordinal), Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, borrowed.StatusCode);
        }
    }

    [Fact]
    public async Task A_link_expires_when_it_says_and_the_store_refuses_it_after()
    {
        var key = ImageKeys.KeyFor(Guid.CreateVersion7(), "png");
        await Store.SaveAsync(key, new byte[10], "image/png", Token);
        var link = ((IDirectLinkStore)Store).LinkFor(key, DateTimeOffset.UtcNow.AddSeconds(1));

        await Task.Delay(TimeSpan.FromSeconds(2.5), Token);

        using var expired = await _browser.GetAsync(link, Token);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
    }

    [Fact]
    public void Links_made_minutes_apart_within_one_step_are_the_same_link_so_browsers_keep_the_image()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 30, TimeSpan.Zero));
        var store = new S3ImageStore(server.Options, time);
        var key = ImageKeys.KeyFor(Guid.CreateVersion7(), "png");
        var expires = new DateTimeOffset(2026, 11, 29, 13, 5, 0, TimeSpan.Zero);

        var first = store.LinkFor(key, expires);
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(first, store.LinkFor(key, expires));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.NotEqual(first, store.LinkFor(key, expires));
    }

    [Fact]
    public async Task Variants_live_under_their_own_prefix_for_the_lifecycle_rule_originals_do_not()
    {
        var image = Guid.CreateVersion7();
        var original = ImageKeys.KeyFor(image, "png");
        var variant = ImageKeys.VariantKeyFor(image, 256, 80, "webp");
        await Store.SaveAsync(original, new byte[10], "image/png", Token);
        await Store.SaveAsync(variant, new byte[10], "image/webp", Token);

        var directLinks = (IDirectLinkStore)Store;
        Assert.Contains($"/{server.Options.Bucket}/{original}?", directLinks.LinkFor(original, DateTimeOffset.UtcNow.AddHours(1)).ToString());
        Assert.Contains($"/{server.Options.Bucket}/variants/{variant}?", directLinks.LinkFor(variant, DateTimeOffset.UtcNow.AddHours(1)).ToString());
    }

    public void Dispose()
    {
        _browser.Dispose();
        _store?.Dispose();
    }
}
