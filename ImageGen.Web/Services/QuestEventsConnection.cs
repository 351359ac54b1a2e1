using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace ImageGen.Web.Services;

/// <summary>
/// One SignalR connection to the API's quest hub per browser circuit, as the signed-in person. The web server, not
/// the browser, holds it and its token. Events of all the person's quests arrive on it; it reconnects by itself, and
/// after a reconnect each tracked quest's current state is fetched again.
/// </summary>
public sealed class QuestEventsConnection(IConfiguration configuration, ImageGenApiClient api) : IAsyncDisposable
{
    private readonly HashSet<Guid> _subscriptions = [];
    private HubConnection? _connection;

    /// <summary>A live event, or (after subscribing or reconnecting) the current state as a snapshot.</summary>
    public event Func<QuestEvent, Task>? EventReceived;
    public event Func<QuestDto, Task>? SnapshotReceived;
    public event Func<bool, Task>? ConnectionChanged;

    public bool IsConnected => _connection?.State == HubConnectionState.Connected;

    public async Task<QuestDto?> SubscribeAsync(Guid questId, CancellationToken cancellationToken)
    {
        var connection = await EnsureConnectedAsync(cancellationToken);
        _subscriptions.Add(questId);
        return await connection.InvokeAsync<QuestDto?>("Subscribe", questId, cancellationToken);
    }

    public void Forget(Guid questId) => _subscriptions.Remove(questId);

    private async Task<HubConnection> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            _connection = new HubConnectionBuilder()
                .WithUrl(new Uri(ApiBaseAddress(configuration), "/hubs/quests"), o =>
                {
                    // WebSockets alone: a negotiate request and the socket after it could reach different API replicas.
                    o.SkipNegotiation = true;
                    o.Transports = HttpTransportType.WebSockets;
                    o.AccessTokenProvider = () => api.GetAccessTokenAsync();
                })
                .WithAutomaticReconnect()
                .Build();
            _connection.On<QuestEvent>("questEvent", evt => EventReceived?.Invoke(evt) ?? Task.CompletedTask);
            _connection.Reconnecting += _ => ConnectionChanged?.Invoke(false) ?? Task.CompletedTask;
            _connection.Closed += _ => ConnectionChanged?.Invoke(false) ?? Task.CompletedTask;
            _connection.Reconnected += async _ =>
            {
                if (ConnectionChanged is { } changed)
                {
                    await changed(true);
                }

                foreach (var id in _subscriptions.ToList())
                {
                    var snapshot = await _connection.InvokeAsync<QuestDto?>("Subscribe", id);
                    if (snapshot is not null && SnapshotReceived is { } handler)
                    {
                        await handler(snapshot);
                    }
                }
            };
        }

        if (_connection.State == HubConnectionState.Disconnected)
        {
            await _connection.StartAsync(cancellationToken);
        }

        return _connection;
    }

    /// <summary>The API's address from service discovery configuration (the AppHost sets <c>services:api:http:0</c>).</summary>
    private static Uri ApiBaseAddress(IConfiguration configuration)
    {
        var address = configuration["services:api:http:0"] ?? configuration["services:api:https:0"]
            ?? throw new InvalidOperationException("The API's address is not configured (services:api:http:0).");
        return new Uri(address);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
