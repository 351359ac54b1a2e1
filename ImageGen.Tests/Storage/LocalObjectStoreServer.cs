using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using ImageGen.AppHost.Infrastructure;
using ImageGen.Core.Storage;

namespace ImageGen.Tests.Storage;

/// <summary>
/// The local S3-compatible server the AppHost runs (<c>ImageGen:ObjectStore=local</c>), started alone: its own
/// directory, port and key pair, stopped with the fixture.
/// </summary>
public sealed class LocalObjectStoreServer : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("imagegen-objects-").FullName;
    private Process? _process;

    public ObjectStoreOptions Options { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var installation = await Task.Run(LocalObjectStore.Install);
        var port = FreePort();
        Options = new ObjectStoreOptions
        {
            Bucket = LocalObjectStore.Bucket,
            Region = LocalObjectStore.Region,
            ServiceUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            ForcePathStyle = true,
            AccessKey = "test-access-key",
            SecretKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
        };
        var start = new ProcessStartInfo(installation.Node, [installation.Script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["OBJECT_STORE_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["OBJECT_STORE_DIRECTORY"] = _directory;
        start.Environment["OBJECT_STORE_BUCKET"] = Options.Bucket;
        start.Environment["OBJECT_STORE_ACCESS_KEY"] = Options.AccessKey;
        start.Environment["OBJECT_STORE_SECRET_KEY"] = Options.SecretKey;
        _process = Process.Start(start)!;

        // Ready when it says it listens (the bucket is made before that).
        using var timeout = new CancellationTokenSource(StartTimeout);
        while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains("listening", StringComparison.Ordinal))
            {
                return;
            }
        }

        throw new InvalidOperationException($"The local object store did not start: {await _process.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
