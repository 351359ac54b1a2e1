using ImageGen.AppHost.Infrastructure;
using ImageGen.Core.Storage;
using ImageGen.Data.Storage;

namespace ImageGen.Benchmarks;

/// <summary>
/// The object store's side of image delivery: the same variant bytes the API serves, put in the local S3-compatible
/// server and read by their signed links, so the store path and the API path are measured in one run on one machine.
/// </summary>
internal sealed class PresignedProbe(LocalObjectStoreProcess server, S3ImageStore store) : IAsyncDisposable
{
    public static async Task<PresignedProbe> StartAsync()
    {
        var server = await LocalObjectStoreProcess.StartAsync(CancellationToken.None);
        var options = new ObjectStoreOptions
        {
            Bucket = LocalObjectStore.Bucket,
            Region = LocalObjectStore.Region,
            ServiceUrl = server.ServiceUrl,
            ForcePathStyle = true,
            AccessKey = server.AccessKey,
            SecretKey = server.SecretKey,
        };
        return new PresignedProbe(server, new S3ImageStore(options, TimeProvider.System));
    }

    /// <summary>Stores the bytes as a variant of a new image and returns the store's signed link to them (valid an hour).</summary>
    public async Task<Uri> PutVariantAsync(byte[] bytes)
    {
        var key = ImageKeys.VariantKeyFor(Guid.CreateVersion7(), 800, 80, "webp");
        await store.SaveAsync(key, bytes, "image/webp", CancellationToken.None);
        return store.LinkFor(key, DateTimeOffset.UtcNow.AddHours(1));
    }

    /// <summary>CPU seconds the store's process has spent so far.</summary>
    public double CpuSeconds() => server.CpuSeconds();

    public async ValueTask DisposeAsync()
    {
        store.Dispose();
        await server.DisposeAsync();
    }
}
