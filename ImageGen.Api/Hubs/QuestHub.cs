using ImageGen.Api.Auth;
using ImageGen.Api.Operations;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace ImageGen.Api.Hubs;

/// <summary>
/// Live quest events. A connection joins its user's group when it opens, so it receives <c>questEvent</c>s of its own
/// user's quests and no one else's, whatever it asks for. <see cref="Subscribe"/> answers with a quest's current
/// state (with the latest preview frame of a running one), so a late or reconnecting client never shows a stale progress bar.
/// </summary>
[Authorize(Policy = "scope:" + ApiKeyScopes.Quests)]
internal sealed class QuestHub(
    ImageGenDbContext db, ImageGenMetrics metrics, IConnectionMultiplexer redis, TimeProvider time, HubSessions sessions, Services.QuestSnapshots snapshots) : Hub
{
    public const string Path = "/hubs/quests";
    public const string EventMethod = "questEvent";

    public static string GroupFor(Guid userId) => "user:" + userId.ToString("N");

    public override async Task OnConnectedAsync()
    {
        // Known before anything is awaited, so a credential ended from here on closes this connection too.
        sessions.Add(Context);
        await Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(Context.User!.UserId()));
        metrics.HubConnected();
        HubStats.Count(redis, time.GetUtcNow(), dropped: false);
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        sessions.Remove(Context);
        // An exception means the connection dropped (network, timeout) rather than the client closing it.
        metrics.HubDisconnected(dropped: exception is not null);
        if (exception is not null)
        {
            HubStats.Count(redis, time.GetUtcNow(), dropped: true);
        }

        return base.OnDisconnectedAsync(exception);
    }

    [HubCallLimited]
    public async Task<QuestDto> Subscribe(Guid questId)
    {
        var userId = Context.User!.UserId();
        var quest = await db.FindWithImagesAsync(questId, userId, Context.ConnectionAborted);
        return quest is null
            ? throw new HubException($"{ErrorCodes.QuestNotFound}: there is no quest '{questId}'.")
            : await snapshots.ForAsync(quest, db, Context.ConnectionAborted);
    }
}
