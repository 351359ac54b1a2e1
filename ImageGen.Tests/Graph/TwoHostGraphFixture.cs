using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace ImageGen.Tests.Graph;

/// <summary>
/// A graph whose images live in an object store (the local S3-compatible server that checks signatures), and a second
/// "host" beside it: an API and a worker started from host A's settings, each in its own empty working directory, so
/// the two hosts share only Postgres, Redis and the object store, over the network. One API and one worker per host,
/// and a second gateway started like the first.
/// </summary>
public sealed class TwoHostGraphFixture : GraphFixture
{
    // Measured: 9-21 s alone, 75 s while the other graphs started and ran beside it.
    private static readonly TimeSpan HostStartTimeout = TimeSpan.FromSeconds(180);

    protected override int WebReplicas => 1;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "ImageGen:ObjectStore=local",
        "ImageGen:ApiReplicas=1",
        "ImageGen:WorkerReplicas=1",
        $"ImageGen:RateLimits:SignupsPerDay={SignupsPerDay}",
        // One BFL account for both hosts' workers, at 3 jobs in flight; a dead worker's slots come back within 4 s.
        "ImageGen:ProviderAccounts:Bfl:MaxConcurrency=3",
        "ImageGen:ProviderAccounts:SlotLease=00:00:04",
        // Live updates give up quickly here (two retries), so a test sees Closed, and try again within 2 s.
        "ImageGen:LiveUpdates:ReconnectDelays:0=00:00:00",
        "ImageGen:LiveUpdates:ReconnectDelays:1=00:00:00.500",
        "ImageGen:LiveUpdates:RetryCap=00:00:02",
        // A running quest without news for 5 s (30 s in production) gets the page's note.
        "ImageGen:LiveUpdates:StallAfter=00:00:05",
    ];

    /// <summary>New accounts per address a day in this graph: its tests sign up from fresh addresses, a few each.</summary>
    public const int SignupsPerDay = 4;

    /// <summary>A second gateway, like the graph's own: per-address limits must hold across both.</summary>
    public HostProcess GatewayB { get; private set; } = null!;

    /// <summary>Host B's API (its own address; host A's is the gateway).</summary>
    public HostProcess ApiB { get; private set; } = null!;

    /// <summary>Host B's worker; <see cref="StartWorkerBAsync"/> starts a new one after a test killed it.</summary>
    public HostProcess WorkerB { get; private set; } = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var started = Stopwatch.StartNew();
        // Both at once: each spends most of its start waiting on its own JIT and connections, not on the other.
        var apiB = HostProcess.StartLikeAsync((await ApiProcessIdsAsync()).Single(), "api-b", HostStartTimeout);
        var gatewayB = HostProcess.StartLikeAsync((await GatewayProcessIdsAsync()).Single(), "gateway-b", HostStartTimeout);
        try
        {
            await Task.WhenAll(apiB, gatewayB, StartWorkerBAsync());
        }
        finally
        {
            // Kept even when another failed, so that disposing the fixture stops it.
            ApiB = apiB.IsCompletedSuccessfully ? apiB.Result : null!;
            GatewayB = gatewayB.IsCompletedSuccessfully ? gatewayB.Result : null!;
        }
        var measured = $"[graph] host B (api, gateway, worker) healthy in {started.Elapsed.TotalSeconds:0.0} s (bound {HostStartTimeout.TotalSeconds:0} s each)";
        Console.WriteLine(measured);
        await File.AppendAllTextAsync(Path.Combine(AppContext.BaseDirectory, StartLogName), $"{DateTimeOffset.UtcNow:u} {measured}{Environment.NewLine}");
    }

    public async Task StartWorkerBAsync()
    {
        if (WorkerB is { HasExited: false })
        {
            return;
        }

        WorkerB?.Dispose();
        // Host B's worker is gone (or never was): host A's is the only one left.
        var workerA = (await WorkerProcessIdsAsync()).Single();
        WorkerB = await HostProcess.StartLikeAsync(workerA, "worker-b", HostStartTimeout);
    }

    /// <summary>Host A's worker process (the graph's own).</summary>
    public async Task<int> WorkerAAsync() => (await WorkerProcessIdsAsync()).Single(pid => pid != WorkerB.Id);

    public override async ValueTask DisposeAsync()
    {
        ApiB?.Dispose();
        GatewayB?.Dispose();
        WorkerB?.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>
/// A service process of host B: the same program and settings as a running one of host A, on its own port, in a new
/// empty working directory (the program's own files are its install, as in a container image).
/// </summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private HostProcess(Process process, string directory, Uri address)
    {
        Id = process.Id;
        _process = process;
        _directory = directory;
        Address = address;
    }

    public Uri Address { get; }
    public int Id { get; }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    /// <summary>The process's last 100 lines of output (standard output and error).</summary>
    public IReadOnlyCollection<string> RecentOutput => _output;

    internal void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 100 && _output.TryDequeue(out _))
        {
        }
    }
    public bool HasExited => _process.HasExited;

    public static async Task<HostProcess> StartLikeAsync(int template, string name, TimeSpan timeout)
    {
        var commandLine = File.ReadAllText($"/proc/{template}/cmdline").TrimEnd('\0').Split('\0');
        var environment = File.ReadAllText($"/proc/{template}/environ").TrimEnd('\0').Split('\0')
            .Select(v => v.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        var program = commandLine[0];
        var install = Path.GetDirectoryName(commandLine.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal)) ?? program)!;
        var directory = Directory.CreateTempSubdirectory($"imagegen-host-b-{name}-").FullName;
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");

        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in commandLine[1..])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        foreach (var key in environment.Keys.Where(k => k is "HTTP_PORTS" or "HTTPS_PORTS" or "ASPNETCORE_HTTP_PORTS" or "ASPNETCORE_HTTPS_PORTS"))
        {
            start.Environment.Remove(key);
        }

        start.Environment["ASPNETCORE_URLS"] = address.ToString().TrimEnd('/');
        start.Environment["ASPNETCORE_CONTENTROOT"] = install;
        start.Environment["OTEL_SERVICE_NAME"] = name;
        var process = Process.Start(start)!;
        // Read as it comes, so a chatty process never blocks on a full pipe; the last lines are kept for a failure's message.
        var host = new HostProcess(process, directory, address);
        process.OutputDataReceived += (_, line) => host.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => host.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var health = await client.GetAsync("/health");
                if (health.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        host.Dispose();
        throw new InvalidOperationException($"Host B's {name} did not become healthy within {timeout.TotalSeconds:0} s.");
    }

    /// <summary>Whatever the process wrote to its working directory (nothing, for a service that keeps no local state).</summary>
    public IReadOnlyList<string> FilesWritten() => Directory.EnumerateFileSystemEntries(_directory, "*", SearchOption.AllDirectories).ToList();

    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TwoHostCollection : ICollectionFixture<TwoHostGraphFixture>, ICollectionFixture<Browser.BrowserFixture>
{
    public const string Name = "two-host";
}
