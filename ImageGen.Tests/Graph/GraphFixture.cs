using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ImageGen.Core.Messaging;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The whole graph (Redis and Postgres as throw-away local processes, migrations, api, worker, web, gateway),
/// started once and shared by every test in the <see cref="GraphCollection"/>. Tests talk only to the gateway.
/// </summary>
public sealed class GraphFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    public static readonly TimeSpan QuestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Web defaults plus enum names, as the API writes them.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private DistributedApplication? _app;

    public Uri GatewayAddress { get; private set; } = null!;
    public HttpClient Gateway { get; private set; } = null!;
    public TimeSpan StartDuration { get; private set; }

    public async ValueTask InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ImageGen_AppHost>(
            [
                "ImageGen:Ephemeral=true",
                "ImageGen:Infrastructure=local",
                "ImageGen:GatewayPort=0",
                // Fast enough for a quick suite, slow enough that a browser sees the progress bar move.
                "ImageGen:Worker:RenderStepDelay=00:00:00.150",
            ],
            cts.Token);

        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // Nothing listens on the default OTLP endpoint under test; exporting to it makes every stop slow.
            builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }

        _app = await builder.BuildAsync(cts.Token).WaitAsync(cts.Token);
        await _app.StartAsync(cts.Token).WaitAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cts.Token).WaitAsync(cts.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("worker", cts.Token).WaitAsync(cts.Token);

        GatewayAddress = _app.GetEndpoint("gateway", "http");
        Gateway = new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };
        StartDuration = started.Elapsed;
    }

    /// <summary>A SignalR connection to the quest hub through the gateway (WebSockets pass through YARP).</summary>
    public async Task<HubConnection> ConnectHubAsync(CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(GatewayAddress, "/hubs/quests"))
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        await connection.StartAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        return connection;
    }

    public async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;

    public async ValueTask DisposeAsync()
    {
        Gateway?.Dispose();
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _app.StopAsync(cts.Token).WaitAsync(cts.Token);
            await _app.DisposeAsync();
        }
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
