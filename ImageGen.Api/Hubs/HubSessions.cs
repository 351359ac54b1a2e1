using System.Collections.Concurrent;
using System.Security.Claims;
using ImageGen.Api.Auth;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace ImageGen.Api.Hubs;

/// <summary>
/// The live hub connections of this API instance, by user, so an ended session also ends its connections: logout, a
/// password change, a revoked key or a revoked session is announced on Redis, and every instance closes the matching
/// connections it holds (a client then reconnects only if its credential still works).
/// </summary>
internal sealed partial class HubSessions(IConnectionMultiplexer redis, TimeProvider time, ILogger<HubSessions> logger) : IHostedService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("imagegen:sessions-ended");

    /// <summary>
    /// How long an ended credential is remembered here: a connection authenticated just before its credential ended
    /// may be added only after the announcement arrived, and is closed on arrival instead.
    /// </summary>
    private static readonly TimeSpan RememberEnded = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _recentlyEnded = new();

    /// <summary>Adds a connection; closes it at once when its credential ended while it was being opened.</summary>
    public void Add(HubCallerContext context)
    {
        _connections[context.ConnectionId] = context;
        var now = time.GetUtcNow();
        foreach (var (what, endedAt) in _recentlyEnded)
        {
            if (now - endedAt < RememberEnded && Matches(context, what))
            {
                context.Abort();
                LogClosed(logger, 1, what.Split(':')[0]);
                return;
            }
        }
    }

    public void Remove(HubCallerContext context) => _connections.TryRemove(context.ConnectionId, out _);

    /// <summary>Every session of the user ended (logout, password change).</summary>
    public Task EndUserAsync(Guid userId) => PublishAsync($"user:{userId:N}");

    /// <summary>One session (a family of refresh tokens) ended.</summary>
    public Task EndSessionAsync(string session) => PublishAsync($"session:{session}");

    /// <summary>An API key was revoked.</summary>
    public Task EndKeyAsync(Guid keyId) => PublishAsync($"key:{keyId:N}");

    /// <summary>Every connection on every instance closes (live updates paused by an operator).</summary>
    public Task EndAllAsync() => PublishAsync("all:");

    private Task PublishAsync(string what) => redis.GetSubscriber().PublishAsync(Channel, what);

    public Task StartAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().SubscribeAsync(Channel, (_, message) => Ended(message.ToString()));

    public Task StopAsync(CancellationToken cancellationToken) => redis.GetSubscriber().UnsubscribeAsync(Channel);

    /// <summary>Closes the connections of an ended credential (announced on Redis by any instance).</summary>
    internal void Ended(string what)
    {
        var now = time.GetUtcNow();
        // A key or a session never comes back; a user signs in again, so an ended user is not remembered (nor a pause,
        // which refuses new connections by itself).
        if (!what.StartsWith("user:", StringComparison.Ordinal) && !what.StartsWith("all:", StringComparison.Ordinal))
        {
            _recentlyEnded[what] = now;
        }

        foreach (var (old, endedAt) in _recentlyEnded)
        {
            if (now - endedAt >= RememberEnded)
            {
                _recentlyEnded.TryRemove(old, out _);
            }
        }

        var closed = 0;
        foreach (var context in _connections.Values)
        {
            if (Matches(context, what))
            {
                context.Abort();
                closed++;
            }
        }

        if (closed > 0)
        {
            LogClosed(logger, closed, what.Split(':')[0]);
        }
    }

    private static bool Matches(HubCallerContext context, string what)
    {
        var user = context.User;
        return what.Split(':', 2) switch
        {
            ["user", var id] => Guid.TryParse(user?.FindFirstValue(ClaimTypes.NameIdentifier), out var userId) && userId.ToString("N") == id,
            ["session", var session] => user?.FindFirstValue(SessionGuard.SessionClaim) == session,
            ["key", var key] => Guid.TryParse(user?.FindFirstValue("api_key_id"), out var keyId) && keyId.ToString("N") == key,
            ["all", _] => true,
            _ => false,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Count} hub connection(s): their {Kind} ended")]
    private static partial void LogClosed(ILogger logger, int count, string kind);
}
