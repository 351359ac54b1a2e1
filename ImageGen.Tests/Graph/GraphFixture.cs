using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ImageGen.Core.Accounts;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ImageGen.Tests.Graph;

/// <summary>A registered, signed-in account with a client that sends its bearer token.</summary>
public sealed record TestUser(Guid Id, string Email, string Password, string AccessToken, string RefreshToken, HttpClient Client) : IDisposable
{
    public void Dispose() => Client.Dispose();
}

/// <summary>
/// The whole graph (Redis and Postgres as throw-away local processes, migrations, api, worker, web, gateway),
/// started once and shared by every test in the <see cref="GraphCollection"/>. Tests talk only to the gateway,
/// and each creates its own users.
/// </summary>
public class GraphFixture : IAsyncLifetime
{
    public const string AdminEmail = "admin@graph.test";
    public const string AdminPassword = "Admin-Passw0rd-for-tests";
    public const string UserPassword = "Passw0rd-for-tests";

    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    public static readonly TimeSpan QuestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Web defaults plus enum names, as the API writes them.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>
    /// The testing builder finds the AppHost's builder through process-wide diagnostics; two graphs built at the same
    /// moment could each get the other's (with the other's settings). Building one at a time prevents that.
    /// </summary>
    private static readonly SemaphoreSlim BuildGate = new(1, 1);

    /// <summary>Graphs start one after another (see <see cref="InitializeAsync"/>).</summary>
    private static readonly SemaphoreSlim StartGate = new(1, 1);

    private DistributedApplication? _app;

    public Uri GatewayAddress { get; private set; } = null!;

    /// <summary>The API's own address (the orchestrator's proxy in front of its replicas), not public.</summary>
    public Uri ApiAddress { get; private set; } = null!;
    public HttpClient Gateway { get; private set; } = null!;
    public TimeSpan StartDuration { get; private set; }

    /// <summary>The provider simulator's own address, for switching fault profiles and reading request counts.</summary>
    public HttpClient Simulator { get; private set; } = null!;

    /// <summary>Settings on top of the common ones; a fixture for a broken or differently tuned graph adds its own.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public TestUser Admin { get; private set; } = null!;

    /// <summary>Where the graph's services send their telemetry; holds the metric points they exported.</summary>
    public OtlpMetricsReceiver Telemetry { get; } = new();

    public async ValueTask InitializeAsync()
    {
        // One graph starts at a time: two starting together on two cores each took over twice as long, and a busy
        // machine pushed both past their bound. The bound counts from this graph's own start, not the wait before it.
        await StartGate.WaitAsync(TestContext.Current.CancellationToken);
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var cts = new CancellationTokenSource(StartTimeout);
            _app = await BuildAsync(cts.Token);
            await _app.StartAsync(cts.Token).WaitAsync(cts.Token);
            await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cts.Token).WaitAsync(cts.Token);
            await _app.ResourceNotifications.WaitForResourceHealthyAsync("worker", cts.Token).WaitAsync(cts.Token);
        }
        finally
        {
            StartGate.Release();
        }

        // Measured on every run, so a slow start shows in the log before it becomes a timeout.
        Console.WriteLine($"[graph] {GetType().Name} healthy in {started.Elapsed.TotalSeconds:0.0} s (bound {StartTimeout.TotalSeconds:0} s)");
        WatchLogs(_app);
        GatewayAddress = _app.GetEndpoint("gateway", "http");
        ApiAddress = _app.GetEndpoint("api", "http");
        Gateway = new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };
        Simulator = new HttpClient { BaseAddress = _app.GetEndpoint("provider-sim", "http"), Timeout = TimeSpan.FromSeconds(30) };
        StartDuration = started.Elapsed;
        using var login = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Admin = await LoginAsync(AdminEmail, AdminPassword, login.Token);
    }

    private async Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken)
    {
        await BuildGate.WaitAsync(cancellationToken);
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ImageGen_AppHost>(
                [
                    "ImageGen:Ephemeral=true",
                    "ImageGen:Infrastructure=local",
                    "ImageGen:GatewayPort=0",
                    // Two API instances behind one address, so every whole-graph test holds with replicas.
                    "ImageGen:ApiReplicas=2",
                    // Fast enough for a quick suite, slow enough that a browser sees the progress bar move.
                    "ImageGen:Worker:RenderStepDelay=00:00:00.150",
                    $"Parameters:admin-email={AdminEmail}",
                    $"Parameters:admin-password={AdminPassword}",
                    "Parameters:image-signing-key=test-signing-key-0123456789abcdef",
                    // Every test signs in from 127.0.0.1: the shared graph must not throttle the suite itself.
                    "ImageGen:RateLimits:LoginBurst=100000",
                    "ImageGen:RateLimits:LoginsPerMinute=100000",
                    "ImageGen:RateLimits:SubmitBurst=1000",
                    "ImageGen:RateLimits:SubmitsPerMinute=100000",
                    "ImageGen:RateLimits:AddressSubmitBurst=100000",
                    "ImageGen:RateLimits:AddressSubmitsPerMinute=100000",
                    "ImageGen:RateLimits:ImageBurst=100000",
                    "ImageGen:RateLimits:ImagesPerMinute=100000",
                    "ImageGen:RateLimits:HubConnectBurst=100000",
                    "ImageGen:RateLimits:HubConnectsPerMinute=100000",
                    "ImageGen:RateLimits:SignupsPerDay=100000",
                    // Quick retries and a small circuit threshold keep provider-fault tests fast.
                    "ImageGen:Providers:BaseDelay=00:00:00.100",
                    "ImageGen:Providers:CircuitFailureThreshold=3",
                    "ImageGen:Providers:CircuitBreakDuration=00:00:03",
                    "ImageGen:Providers:PollMinInterval=00:00:00.100",
                    "ImageGen:Providers:PollMaxInterval=00:00:00.300",
                    // Health probes often enough that a test sees one.
                    "ImageGen:Providers:ProbeInterval=00:00:05",
                    "ImageGen:Worker:QuestDeadline=00:01:00",
                    // Short leases and a brisk reconciler, so recovery from a killed worker shows within a test's time.
                    "ImageGen:Worker:MaxConcurrency=4",
                    "ImageGen:Worker:LeaseDuration=00:00:03",
                    "ImageGen:Worker:ReconcileInterval=00:00:02",
                    "ImageGen:Worker:ClaimIdleTime=00:00:05",
                    "ImageGen:Worker:RequeueAfter=00:00:05",
                    "ImageGen:Worker:MaxDeliveries=3",
                    // Alerts over a short window, checked every second, so one test sees them fire and resolve.
                    "ImageGen:Alerts:Interval=00:00:01",
                    "ImageGen:Alerts:Window=00:00:15",
                    "ImageGen:Alerts:MinSamples=3",
                    .. ExtraArguments,
                ],
                cancellationToken);

            builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
            foreach (var project in builder.Resources.OfType<ProjectResource>())
            {
                // No dashboard under test: the services export to this fixture's own receiver, every second, so tests
                // read the metrics the services really emit.
                builder.CreateResourceBuilder(project).WithEnvironment(context =>
                {
                    context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = Telemetry.Address.ToString().TrimEnd('/');
                    context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                    context.EnvironmentVariables["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
                });
            }

            return await builder.BuildAsync(cancellationToken).WaitAsync(cancellationToken);
        }
        finally
        {
            BuildGate.Release();
        }
    }

    /// <summary>
    /// A new account (with the starting grant), signed in. It registers, signs in and calls from an address of its
    /// own, as a real user would, so per-address limits never make one test fail because of another.
    /// </summary>
    public async Task<TestUser> CreateUserAsync(CancellationToken cancellationToken, string? email = null)
    {
        email ??= $"user-{Guid.NewGuid():N}@graph.test";
        var client = ClientFrom(FreshLoopbackAddress());
        try
        {
            using var response = await client.PostAsJsonAsync("/api/auth/register", new { email, password = UserPassword }, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Registering {email} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            return await LoginAsync(email, UserPassword, cancellationToken, client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A loopback address (127.0.0.0/8) no other test is likely to use.</summary>
    public static IPAddress FreshLoopbackAddress() =>
        new([127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(2, 255)]);

    /// <summary>
    /// A client whose connections come from another loopback address (127.0.0.0/8), so the gateway sees a different
    /// caller address: per-address limits can be tested without touching other tests' budgets.
    /// </summary>
    public HttpClient ClientFrom(IPAddress source) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Signs in; the returned user calls through <paramref name="client"/> (which it then owns), or a new client.</summary>
    public async Task<TestUser> LoginAsync(string email, string password, CancellationToken cancellationToken, HttpClient? client = null)
    {
        client ??= new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var login = await client.PostAsJsonAsync("/api/auth/login", new { email, password }, cancellationToken);
        if (login.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Signing in {email} failed: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var tokens = await ReadAsync<TokenResponse>(login, cancellationToken);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        var me = (await client.GetFromJsonAsync<MeDto>("/api/me", Json, cancellationToken))!;
        return new TestUser(me.Id, email, password, tokens.AccessToken, tokens.RefreshToken, client);
    }

    /// <summary>
    /// A user's SignalR connection to the quest hub through the gateway (WebSockets pass through YARP), or straight to
    /// <paramref name="address"/>.
    /// </summary>
    public async Task<HubConnection> ConnectHubAsync(TestUser user, CancellationToken cancellationToken, Uri? address = null)
    {
        var connection = BuildHub(address ?? GatewayAddress, user.AccessToken);
        await connection.StartAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        return connection;
    }

    /// <summary>
    /// A quest hub connection, not started, as every client must make it with API replicas (the test graph runs two):
    /// WebSockets, no negotiate request; with the token when there is one.
    /// </summary>
    public static HubConnection BuildHub(Uri address, string? accessToken) => new HubConnectionBuilder()
        .WithUrl(new Uri(address, "/hubs/quests"), o =>
        {
            o.SkipNegotiation = true;
            o.Transports = HttpTransportType.WebSockets;
            o.AccessTokenProvider = () => Task.FromResult(accessToken);
        })
        .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
        .Build();

    /// <summary>Submits a quest as the user and polls until it ends; fails the test unless it succeeded.</summary>
    public async Task<QuestDto> CreateAndWaitAsync(TestUser user, object request, CancellationToken cancellationToken)
    {
        var quest = await SubmitAndWaitAsync(user, request, cancellationToken);
        Assert.Equal(QuestStatus.Succeeded, quest.Status);
        return quest;
    }

    /// <summary>Submits a quest as the user (asserting 202) and polls until it ends, however it ends.</summary>
    public async Task<QuestDto> SubmitAndWaitAsync(TestUser user, object request, CancellationToken cancellationToken)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/quests", request, cancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await WaitForEndAsync(user, (await ReadAsync<QuestDto>(response, cancellationToken)).Id, cancellationToken);
    }

    /// <summary>Polls a quest (bounded by <see cref="QuestTimeout"/>) until it reaches a terminal state.</summary>
    public async Task<QuestDto> WaitForEndAsync(TestUser user, Guid questId, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(QuestTimeout);
        while (true)
        {
            var quest = (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{questId}", Json, deadline.Token))!;
            if (quest.Status.IsTerminal())
            {
                return quest;
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    public async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;

    /// <summary>The graph's Redis, for tests that act on the queue directly.</summary>
    public async Task<StackExchange.Redis.IConnectionMultiplexer> ConnectRedisAsync() =>
        await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync((await _app!.GetConnectionStringAsync("redis")) + ",allowAdmin=true");

    /// <summary>The graph's database, for tests that must write what no endpoint would (a corrupt row).</summary>
    public async Task<ImageGenDbContext> ConnectDatabaseAsync()
    {
        var options = new DbContextOptionsBuilder<ImageGenDbContext>();
        options.UseNpgsql(await _app!.GetConnectionStringAsync(ImageGenDbContext.ConnectionName));
        ImageGenDbContext.Configure(options);
        return new ImageGenDbContext(options.Options);
    }

    /// <summary>
    /// Stops the graph's Postgres as an operator would (a fast shutdown: sessions end, nothing is left half-done) and
    /// waits until the server process is gone.
    /// </summary>
    public async Task StopPostgresAsync(CancellationToken cancellationToken)
    {
        var port = new NpgsqlConnectionStringBuilder(await _app!.GetConnectionStringAsync(ImageGenDbContext.ConnectionName)).Port;
        // A backend forked this instant still shows the server's command line until it renames itself: the server is
        // the one whose parent is not a match (a process gone meanwhile has no parent, 0).
        var matches = FindProcesses(program => program[0].EndsWith("/postgres", StringComparison.Ordinal) && program.Contains(port.ToString(CultureInfo.InvariantCulture)));
        var server = matches.Single(pid => ParentOf(pid) is var parent && parent != 0 && !matches.Contains(parent));
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", server.ToString(CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync(cancellationToken);
        }

        await _app!.ResourceNotifications.WaitForResourceAsync("postgres", e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _logs = new();
    private readonly CancellationTokenSource _stopWatching = new();

    /// <summary>Every log line every service of this graph wrote so far (console output, as the dashboard shows it).</summary>
    public IReadOnlyCollection<string> LogLines => _logs;

    private void WatchLogs(DistributedApplication app)
    {
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var batch in logs.WatchAsync(resource).WithCancellation(_stopWatching.Token))
                    {
                        foreach (var line in batch)
                        {
                            _logs.Enqueue($"{resource.Name}: {line.Content}");
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }
    }

    /// <summary>Starts the graph's Postgres again (the dashboard's Start command) and waits until it answers.</summary>
    public async Task StartPostgresAsync(CancellationToken cancellationToken)
    {
        var result = await _app!.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync("postgres", KnownResourceCommands.StartCommand, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        Assert.True(result.Success, result.Message);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Process ids of this graph's running worker replicas.</summary>
    public Task<IReadOnlyList<int>> WorkerProcessIdsAsync() => ServiceProcessIdsAsync("ImageGen.Worker");

    /// <summary>Process ids of this graph's running API replicas.</summary>
    public Task<IReadOnlyList<int>> ApiProcessIdsAsync() => ServiceProcessIdsAsync("ImageGen.Api");

    /// <summary>
    /// Process ids of a service's running replicas: its processes whose environment names this graph's Redis (another
    /// graph may be running beside this one).
    /// </summary>
    private async Task<IReadOnlyList<int>> ServiceProcessIdsAsync(string program)
    {
        var redis = "ConnectionStrings__redis=" + await _app!.GetConnectionStringAsync("redis");
        // The service itself, not the `dotnet run` that started it.
        return FindProcesses(
            commandLine => commandLine[0].EndsWith("/" + program, StringComparison.Ordinal) || commandLine.Any(a => a.EndsWith(program + ".dll", StringComparison.Ordinal)),
            environment => environment.Contains(redis));
    }

    /// <summary>The directory the graph stores images in, as its workers were told.</summary>
    public async Task<string> ImageStorePathAsync()
    {
        var worker = (await WorkerProcessIdsAsync())[0];
        return File.ReadAllText($"/proc/{worker}/environ").Split('\0')
            .Single(v => v.StartsWith("ImageStore__Path=", StringComparison.Ordinal))["ImageStore__Path=".Length..];
    }

    /// <summary>Processes whose command line (and, if asked, environment) match.</summary>
    private static int ParentOf(int pid)
    {
        try
        {
            // /proc/pid/stat: "pid (name) state ppid ...", where the name may hold spaces.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static List<int> FindProcesses(Func<string[], bool> commandLine, Func<string[], bool>? environment = null)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (commandLine(File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0'))
                    && (environment is null || environment(File.ReadAllText(Path.Combine(dir, "environ")).Split('\0'))))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return pids;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopWatching.CancelAsync();
        Gateway?.Dispose();
        Simulator?.Dispose();
        Admin?.Dispose();
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _app.StopAsync(cts.Token).WaitAsync(cts.Token);
            await _app.DisposeAsync();
        }

        _stopWatching.Dispose();
        Telemetry.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class GraphCollection : ICollectionFixture<GraphFixture>
{
    public const string Name = "graph";
}

/// <summary>Collects quest events from the hub in arrival order.</summary>
public sealed class EventRecorder
{
    private readonly List<QuestEvent> _events = [];
    private readonly TaskCompletionSource<QuestEvent> _terminal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EventRecorder(HubConnection connection) =>
        connection.On<QuestEvent>("questEvent", evt =>
        {
            lock (_events)
            {
                _events.Add(evt);
            }

            if (ImageGen.Core.Quests.QuestStatusExtensions.IsTerminal(evt.Status))
            {
                _terminal.TrySetResult(evt);
            }
        });

    public IReadOnlyList<QuestEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public Task<QuestEvent> Terminal(TimeSpan timeout, CancellationToken cancellationToken) => _terminal.Task.WaitAsync(timeout, cancellationToken);
}
