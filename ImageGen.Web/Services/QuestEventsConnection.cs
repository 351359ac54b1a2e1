using System.Collections.Concurrent;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Options;

namespace ImageGen.Web.Services;

/// <summary>Where a page's live updates stand.</summary>
public enum LiveState
{
    /// <summary>Not started, or starting.</summary>
    Connecting,

    /// <summary>Hub events arrive as they happen.</summary>
    Connected,

    /// <summary>The connection dropped; SignalR tries again on its schedule. Quests are polled meanwhile.</summary>
    Reconnecting,

    /// <summary>SignalR gave up; ImageGen keeps trying with capped backoff. Quests are polled meanwhile.</summary>
    Closed,
}

/// <summary>How live updates recover: SignalR's reconnect schedule, then ImageGen's own capped backoff, and the polling in between.</summary>
public sealed class LiveUpdatesOptions
{
    /// <summary>
    /// The waits of SignalR's automatic reconnect before it gives up (the connection is then Closed); null for 0, 2, 10
    /// and 30 s. (Configuration fills an array by adding to it, so the default lives in <see cref="Delays"/>.)
    /// </summary>
    public TimeSpan[]? ReconnectDelays { get; set; }

    public TimeSpan[] Delays => ReconnectDelays is { Length: > 0 } delays ? delays : [TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    /// <summary>After Closed, tries to connect again at 1 s, 2 s, 4 s... up to this, for as long as the page is open.</summary>
    public TimeSpan RetryCap { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>While not connected, each followed quest is asked for this often (the guide's 2 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A running quest that no event or poll has moved for this long gets a note saying what is known (the guide's 30 s).</summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// One live-update model for every page that follows a quest: one SignalR connection to the API's quest hub per
/// browser circuit, as the signed-in person (the web server, not the browser, holds it and its token). Events arrive
/// while connected. Whenever it is not (reconnecting, closed, or never connected), each followed quest is polled over
/// REST every <see cref="LiveUpdatesOptions.PollInterval"/>; after SignalR gives up, connecting is tried again with
/// capped backoff; on every reconnect each followed quest's current state is fetched again. A page never waits on a
/// connection that is not coming back.
/// </summary>
public sealed partial class QuestEventsConnection(IConfiguration configuration, ImageGenApiClient api, IOptions<LiveUpdatesOptions> options,
    ILogger<QuestEventsConnection> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, byte> _followed = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _starting = new(1, 1);
    private HubConnection? _connection;
    private Task? _polling;
    private Task? _retrying;

    /// <summary>A live event, or (after subscribing, reconnecting, or from a poll) the current state as a snapshot.</summary>
    public event Func<QuestEvent, Task>? EventReceived;
    public event Func<QuestDto, Task>? SnapshotReceived;
    public event Func<LiveState, Task>? StateChanged;

    public LiveState State { get; private set; } = LiveState.Connecting;

    public bool IsConnected => State == LiveState.Connected;

    /// <summary>How often a followed quest is polled while not connected.</summary>
    public TimeSpan PollInterval => options.Value.PollInterval;

    /// <summary>How long a running quest may go without news before the page says what it knows.</summary>
    public TimeSpan StallAfter => options.Value.StallAfter;

    /// <summary>What every page following a quest says of live updates in <paramref name="state"/>; null while connected.</summary>
    public string? NoteFor(LiveState state) => state switch
    {
        LiveState.Connected => null,
        LiveState.Reconnecting => $"Reconnecting to live updates; checking for progress every {PollInterval.TotalSeconds:0.#} s meanwhile.",
        _ => $"Live updates are unavailable right now; checking for progress every {PollInterval.TotalSeconds:0.#} s and reconnecting in the background.",
    };

    /// <summary>
    /// Follows a quest: its events from now on, and its current state (the answer, or, when the hub cannot be reached,
    /// null and then snapshots from polling).
    /// </summary>
    public async Task<QuestDto?> SubscribeAsync(Guid questId, CancellationToken cancellationToken)
    {
        _followed[questId] = 0;
        try
        {
            var connection = await EnsureConnectedAsync(cancellationToken);
            return await connection.InvokeAsync<QuestDto?>("Subscribe", questId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogNotConnected(logger, e);
            await SetStateAsync(_connection?.State == HubConnectionState.Reconnecting ? LiveState.Reconnecting : LiveState.Closed);
            return null;
        }
    }

    public void Forget(Guid questId) => _followed.TryRemove(questId, out _);

    private async Task<HubConnection> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        await _starting.WaitAsync(cancellationToken);
        try
        {
            _connection ??= Build();
            if (_connection.State == HubConnectionState.Disconnected)
            {
                await _connection.StartAsync(cancellationToken);
                await SetStateAsync(LiveState.Connected);
            }

            return _connection;
        }
        finally
        {
            _starting.Release();
        }
    }

    private HubConnection Build()
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(ApiBaseAddress(configuration), "/hubs/quests"), o =>
            {
                // WebSockets alone: a negotiate request and the socket after it could reach different API replicas.
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
                o.AccessTokenProvider = () => api.GetAccessTokenAsync();
            })
            .WithAutomaticReconnect(options.Value.Delays)
            .Build();
        connection.On<QuestEvent>("questEvent", evt => EventReceived?.Invoke(evt) ?? Task.CompletedTask);
        connection.Reconnecting += _ => SetStateAsync(LiveState.Reconnecting);
        connection.Closed += _ => SetStateAsync(LiveState.Closed);
        connection.Reconnected += _ => ConnectedAgainAsync();
        return connection;
    }

    /// <summary>The new state; polling runs whenever it is not Connected, and retrying once SignalR gave up.</summary>
    private async Task SetStateAsync(LiveState state)
    {
        if (_disposed.IsCancellationRequested || State == state)
        {
            return;
        }

        State = state;
        if (state != LiveState.Connected && _polling is null or { IsCompleted: true })
        {
            _polling = Task.Run(() => PollAsync(_disposed.Token));
        }

        if (state == LiveState.Closed && _retrying is null or { IsCompleted: true })
        {
            _retrying = Task.Run(() => RetryAsync(_disposed.Token));
        }

        if (StateChanged is { } changed)
        {
            await changed(state);
        }
    }

    /// <summary>Back again: the states missed while away, then events as they happen.</summary>
    private async Task ConnectedAgainAsync()
    {
        await SetStateAsync(LiveState.Connected);
        foreach (var id in _followed.Keys)
        {
            var snapshot = await _connection!.InvokeAsync<QuestDto?>("Subscribe", id);
            if (snapshot is not null)
            {
                await DeliverAsync(snapshot);
            }
        }
    }

    /// <summary>While not connected: each followed quest's state every poll interval; an ended quest is no longer asked.</summary>
    private async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        try
        {
            while (State != LiveState.Connected && await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var id in _followed.Keys)
                {
                    try
                    {
                        if ((await api.GetQuestAsync(id, cancellationToken)).Value is { } quest)
                        {
                            await DeliverAsync(quest);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                    {
                        // The API itself did not answer: asked again at the next tick.
                        LogPollFailed(logger, e);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>After SignalR gave up: connect again at 1 s, 2 s, 4 s... up to the cap, for as long as the page is open.</summary>
    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        var wait = TimeSpan.FromSeconds(1);
        try
        {
            while (State == LiveState.Closed)
            {
                await Task.Delay(wait, cancellationToken);
                try
                {
                    await EnsureConnectedAsync(cancellationToken);
                    await ConnectedAgainAsync();
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogNotConnected(logger, e);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, options.Value.RetryCap.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(QuestDto quest)
    {
        if (quest.Status.IsTerminal())
        {
            _followed.TryRemove(quest.Id, out _);
        }

        if (SnapshotReceived is { } handler)
        {
            await handler(quest);
        }
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
        await _disposed.CancelAsync();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _disposed.Dispose();
        _starting.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live updates are not connected; following quests by polling")]
    private static partial void LogNotConnected(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A poll for quest states failed")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);
}
