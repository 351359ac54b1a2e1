using ImageGen.AppHost.Infrastructure;
using ImageGen.Core.Storage;

namespace ImageGen.Tests.Storage;

/// <summary>The local S3-compatible server the AppHost runs (<c>ImageGen:ObjectStore=local</c>), started alone for the store tests.</summary>
public sealed class LocalObjectStoreServer : IAsyncLifetime
{
    private LocalObjectStoreProcess? _process;

    public ObjectStoreOptions Options { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _process = await LocalObjectStoreProcess.StartAsync(TestContext.Current.CancellationToken);
        Options = new ObjectStoreOptions
        {
            Bucket = LocalObjectStore.Bucket,
            Region = LocalObjectStore.Region,
            ServiceUrl = _process.ServiceUrl,
            ForcePathStyle = true,
            AccessKey = _process.AccessKey,
            SecretKey = _process.SecretKey,
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
