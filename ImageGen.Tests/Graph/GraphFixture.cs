using System.Text.Json;
using System.Text.Json.Serialization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The whole graph (Redis and Postgres as throw-away local processes, migrations, api, worker, web, gateway),
/// started once and shared by the test classes (an assembly fixture). Tests talk only to the gateway,
/// and each creates its own users.
/// </summary>
public partial class GraphFixture : IAsyncLifetime
{
    public const string AdminEmail = "admin@graph.test";
    public const string AdminPassword = "Admin-Passw0rd-for-tests";
    public const string UserPassword = "Passw0rd-for-tests";
    public const long UploadQuotaBytes = 6_000_000;

    // Measured on a clean clone: the main graph 31-35 s, alone before the tests; the two-host and constrained ones 85-100 s
    // while the main graph's tests ran beside them. The bound leaves room for a machine with one of its two cores taken.
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan QuestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Where each graph's measured start is appended (beside the test assembly).</summary>
    public const string StartLogName = "graph-starts.log";

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

    /// <summary>
    /// Web instances behind the gateway: two in the main graph, so every browser test runs against the gateway's
    /// affinity as a deployment does; one in the others.
    /// </summary>
    protected virtual int WebReplicas => 2;

    public TestUser Admin { get; private set; } = null!;

    /// <summary>The development mail server's inbox: what the API mailed (verification and reset links).</summary>
    public DevInbox Inbox { get; private set; } = null!;

    /// <summary>The main graph (the assembly fixture) once it has started; null before, or when the run needs none.</summary>
    public static GraphFixture? Main { get; private set; }

    /// <summary>Where the graph's services send their telemetry; holds the metric points they exported.</summary>
    public OtlpMetricsReceiver Telemetry { get; } = new();

    public virtual async ValueTask InitializeAsync()
    {
        // Redis and Postgres come from the machine's packages (installed once, by the first fixture to need them; the
        // throw-away Postgres of the transition tests needs them too).
        await MachinePackages.EnsureAsync();
        if (GetType() == typeof(GraphFixture) && !TestRunFilter.MaySelectTestsUsing(typeof(GraphFixture)))
        {
            // A run of the transition, unit or storage tests alone: seconds, not the graph's half a minute first.
            Console.WriteLine("[graph] GraphFixture not started: the run's filter selects none of its tests");
            return;
        }

        // One graph starts at a time: two starting together on two cores each took over twice as long, and a busy
        // machine pushed both past their bound. The bound counts from this graph's own start, not the wait before it.
        await StartGate.WaitAsync(TestContext.Current.CancellationToken);
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var cts = new CancellationTokenSource(StartTimeout);
            _app = await BuildAsync(cts.Token);
            await _app.StartAsync(cts.Token).WaitAsync(cts.Token);
            // The gateway and the web start beside the API, not after it: the graph is ready when all four are.
            foreach (var service in (string[])["api", "worker", "web", .. Enumerable.Range(2, WebReplicas - 1).Select(i => $"web-{i}"), "gateway"])
            {
                await _app.ResourceNotifications.WaitForResourceHealthyAsync(service, cts.Token).WaitAsync(cts.Token);
            }
        }
        finally
        {
            StartGate.Release();
        }

        // Measured on every run, so a slow start shows before it becomes a timeout: on the console, and in a file
        // beside the tests that CI prints after the run (test runners keep a passing run's console to themselves).
        var measured = $"[graph] {GetType().Name} healthy in {started.Elapsed.TotalSeconds:0.0} s (bound {StartTimeout.TotalSeconds:0} s)";
        Console.WriteLine(measured);
        await File.AppendAllTextAsync(Path.Combine(AppContext.BaseDirectory, StartLogName), $"{DateTimeOffset.UtcNow:u} {measured}{Environment.NewLine}");
        WatchLogs(_app);
        GatewayAddress = _app.GetEndpoint("gateway", "http");
        ApiAddress = _app.GetEndpoint("api", "http");
        Gateway = new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };
        Simulator = new HttpClient { BaseAddress = _app.GetEndpoint("provider-sim", "http"), Timeout = TimeSpan.FromSeconds(30) };
        Inbox = new DevInbox(_app.GetEndpoint("mail", "http"));
        StartDuration = started.Elapsed;
        using var login = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Admin = await LoginAsync(AdminEmail, AdminPassword, login.Token);
        if (GetType() == typeof(GraphFixture))
        {
            Main = this;
        }
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
                    $"ImageGen:WebReplicas={WebReplicas}",
                    // Fast enough for a quick suite, slow enough that a browser sees the progress bar move.
                    "ImageGen:Worker:RenderStepDelay=00:00:00.150",
                    $"Parameters:admin-email={AdminEmail}",
                    $"Parameters:admin-password={AdminPassword}",
                    "Parameters:image-signing-key=test-signing-key-0123456789abcdef",
                    // Every test signs in from 127.0.0.1: the shared graph must not throttle the suite itself.
                    // Webhooks reach the tests' receivers on 127.0.0.1 (and nothing else private), retried within seconds.
                    "ImageGen:Webhooks:AllowedNetworks=127.0.0.1/32",
                    // A storage quota a test can reach with a few uploads (UploadTests); no other test keeps this much.
                    $"ImageGen:Uploads:QuotaBytes={UploadQuotaBytes}",
                    "ImageGen:Webhooks:RetryDelays=00:00:01,00:00:02",
                    "ImageGen:Webhooks:PollInterval=00:00:01",
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
                    "ImageGen:RateLimits:ReadBurst=100000",
                    "ImageGen:RateLimits:ReadsPerMinute=1000000",
                    "ImageGen:RateLimits:WriteBurst=100000",
                    "ImageGen:RateLimits:WritesPerMinute=1000000",
                    "ImageGen:RateLimits:HubCallBurst=100000",
                    "ImageGen:RateLimits:HubCallsPerMinute=1000000",
                    "ImageGen:RateLimits:HubConnectionsPerUser=10000",
                    // The same hasher at a hundredth of the cost: the suite signs up and signs in hundreds of accounts
                    // that die with the graph (at 100,000 iterations, 80 ms of CPU each).
                    "ImageGen:Passwords:HashIterations=1000",
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
                    // 6 s, renewed every 2 s: with 3 s, a worker starved for 2 s while other graphs started beside this one
                    // let a lease lapse and its quest ran twice (correctly charged once, but not what a test asked for).
                    "ImageGen:Worker:LeaseDuration=00:00:06",
                    "ImageGen:Worker:ReconcileInterval=00:00:02",
                    "ImageGen:Worker:ClaimIdleTime=00:00:05",
                    "ImageGen:Worker:RequeueAfter=00:00:05",
                    "ImageGen:Worker:MaxDeliveries=3",
                    // Alerts over a short window, checked every 2 s, so one test sees them fire and resolve.
                    "ImageGen:Alerts:Interval=00:00:02",
                    "ImageGen:Alerts:Window=00:00:10",
                    "ImageGen:Alerts:MinSamples=3",
                    .. ExtraArguments,
                ],
                cancellationToken);

            builder.Services.AddLogging(logging => logging
                .SetMinimumLevel(LogLevel.Warning)
                // The fixture waits for health itself and says when it fails; the host's own check logs a stack trace
                // per probe of a service not yet listening or already stopped, which buried the failing test's name.
                .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
            foreach (var project in builder.Resources.OfType<ProjectResource>())
            {
                // No dashboard under test: the services export to this fixture's own receiver, every 5 s (every second
                // was a tenth of an idle service's CPU), so tests read the metrics the services really emit.
                builder.CreateResourceBuilder(project).WithEnvironment(context =>
                {
                    context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = Telemetry.Address.ToString().TrimEnd('/');
                    context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                    context.EnvironmentVariables["OTEL_METRIC_EXPORT_INTERVAL"] = "5000";
                    // Short-lived processes: profile-guided recompilation costs more CPU than it pays back in a test run
                    // (measured: the API's CPU in its first minute down a third, the graph healthy 4 s sooner).
                    context.EnvironmentVariables["DOTNET_TieredPGO"] = "0";
                });
            }

            return await builder.BuildAsync(cancellationToken).WaitAsync(cancellationToken);
        }
        finally
        {
            BuildGate.Release();
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        await _stopWatching.CancelAsync();
        Gateway?.Dispose();
        Simulator?.Dispose();
        Admin?.Dispose();
        if (_app is not null)
        {
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await EndServicesAsync();
            }
            finally
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await _app.StopAsync(cts.Token).WaitAsync(cts.Token);
                await _app.DisposeAsync();
            }

            await File.AppendAllTextAsync(Path.Combine(AppContext.BaseDirectory, StartLogName),
                $"{DateTimeOffset.UtcNow:u} [graph] {GetType().Name} stopped in {stopping.Elapsed.TotalSeconds:0.0} s{Environment.NewLine}");
        }

        _stopWatching.Dispose();
        Telemetry.Dispose();
    }
}
