using System.Reflection;
using System.Security.Claims;
using System.Threading.RateLimiting;
using ImageGen.Api.Limits;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace ImageGen.Api.Hubs;

/// <summary>Marks a hub method as limited by <see cref="HubCallLimits"/>; a method without it is refused.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class HubCallLimitedAttribute : Attribute;

/// <summary>
/// The hub's limits, for every method and connection: calls per connection (in this instance's memory: a connection
/// lives on one instance) and per user over all their connections (a token bucket in Redis, shared by every instance),
/// and at most <see cref="LimitOptions.HubConnectionsPerUser"/> open connections per user, counted in Redis across
/// instances (a connection's entry expires an hour after its last call, so an instance that died frees its count).
/// A method that does not declare itself limited (<see cref="HubCallLimitedAttribute"/>) is refused.
/// </summary>
internal sealed class HubCallLimits : IHubFilter, IDisposable
{
    private const string ConnectionBucket = "imagegen:connection-bucket";
    private static readonly TimeSpan ConnectionEntryLifetime = TimeSpan.FromHours(1);

    private readonly IConnectionMultiplexer _redis;
    private readonly LimitOptions _options;
    private readonly TimeProvider _time;
    private readonly PartitionedRateLimiter<string> _perUser;

    public HubCallLimits(IConnectionMultiplexer redis, IOptions<LimitOptions> options, TimeProvider time)
    {
        (_redis, _options, _time) = (redis, options.Value, time);
        var settings = _options;
        _perUser = PartitionedRateLimiter.Create<string, string>(user => RedisRateLimitPartition.GetTokenBucketRateLimiter($"imagegen:limits:hub-call:user:{user}",
            _ => new RedisTokenBucketRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                TokenLimit = settings.HubCallBurst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / settings.HubCallsPerMinute,
            }));
    }

    /// <summary>True when the method declares itself limited: the rule every hub method is held to.</summary>
    public static bool IsLimited(MethodInfo method) => method.GetCustomAttribute<HubCallLimitedAttribute>() is not null;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (!IsLimited(invocation.HubMethod))
        {
            throw new HubException($"{ErrorCodes.NotFound}: there is no method '{invocation.HubMethodName}'.");
        }

        var context = invocation.Context;
        var connection = (TokenBucketRateLimiter)context.Items[ConnectionBucket]!;
        using var own = connection.AttemptAcquire();
        if (!own.IsAcquired)
        {
            throw Refused();
        }

        var user = UserOf(context);
        using var shared = await _perUser.AcquireAsync(user, cancellationToken: context.ConnectionAborted);
        if (!shared.IsAcquired)
        {
            throw Refused();
        }

        // The connection is alive: its entry in the user's count is kept.
        _ = _redis.GetDatabase().SortedSetAddAsync(ConnectionsKey(user), context.ConnectionId, Until(), SortedSetWhen.Exists, CommandFlags.FireAndForget);
        return await next(invocation);
    }

    public async Task OnConnectedAsync(HubLifetimeContext lifetime, Func<HubLifetimeContext, Task> next)
    {
        var context = lifetime.Context;
        var user = UserOf(context);
        // A connection's entry lives until an hour after its last call; entries past that belong to connections long gone.
        var admitted = await BoundedSet.TryAddAsync(_redis.GetDatabase(), ConnectionsKey(user), context.ConnectionId, score: Until(),
            floor: _time.GetUtcNow().ToUnixTimeMilliseconds(), max: _options.HubConnectionsPerUser, lifetime: ConnectionEntryLifetime);
        if (!admitted)
        {
            throw new HubException($"{ErrorCodes.RateLimited}: at most {_options.HubConnectionsPerUser} live connections per account; close one first.");
        }

        context.Items[ConnectionBucket] = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.HubCallBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / _options.HubCallsPerMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        await next(lifetime);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext lifetime, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        var context = lifetime.Context;
        (context.Items[ConnectionBucket] as IDisposable)?.Dispose();
        await _redis.GetDatabase().SortedSetRemoveAsync(ConnectionsKey(UserOf(context)), context.ConnectionId, CommandFlags.FireAndForget);
        await next(lifetime, exception);
    }

    public void Dispose() => _perUser.Dispose();

    private double Until() => (_time.GetUtcNow() + ConnectionEntryLifetime).ToUnixTimeMilliseconds();

    private static string UserOf(HubCallerContext context) => context.User?.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";

    private static RedisKey ConnectionsKey(string user) => $"imagegen:hub:connections:{user}";

    private static HubException Refused() => new($"{ErrorCodes.RateLimited}: too many calls; slow down.");
}
