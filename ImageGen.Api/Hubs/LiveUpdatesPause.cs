using System.Globalization;
using StackExchange.Redis;

namespace ImageGen.Api.Hubs;

/// <summary>
/// An operator's switch for live updates: while paused, every API instance closes its hub connections and refuses new
/// ones at once (503 with Retry-After), so clients follow their quests by polling the REST API; before a hub
/// maintenance, or to see that pages never get stuck without it. The pause is held in Redis with its end, at most an
/// hour, so a forgotten switch turns itself off.
/// </summary>
internal sealed class LiveUpdatesPause(IConnectionMultiplexer redis, HubSessions sessions, TimeProvider time)
{
    private const string Key = "hubs:paused-until";

    /// <summary>The longest a pause may last.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(1);

    /// <summary>Until when live updates are paused, or null.</summary>
    public async Task<DateTimeOffset?> PausedUntilAsync()
    {
        var value = await redis.GetDatabase().StringGetAsync(Key);
        return value.HasValue && long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            && DateTimeOffset.FromUnixTimeMilliseconds(ms) is var until && until > time.GetUtcNow()
            ? until
            : null;
    }

    /// <summary>Pauses live updates for <paramref name="duration"/>: closes every open hub connection on every instance.</summary>
    public async Task<DateTimeOffset> PauseAsync(TimeSpan duration)
    {
        var until = time.GetUtcNow() + duration;
        await redis.GetDatabase().StringSetAsync(Key, until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), duration);
        await sessions.EndAllAsync();
        return until;
    }

    public Task ResumeAsync() => redis.GetDatabase().KeyDeleteAsync(Key);
}

/// <summary>Refuses hub connections at once while live updates are paused.</summary>
internal static class LiveUpdatesPauseMiddleware
{
    public static IApplicationBuilder UseLiveUpdatesPause(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/hubs", StringComparison.Ordinal)
            && await context.RequestServices.GetRequiredService<LiveUpdatesPause>().PausedUntilAsync() is { } until)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((until - DateTimeOffset.UtcNow).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await context.Response.WriteAsync("Live updates are paused by an operator: follow quests through /api/quests/{id}.");
            return;
        }

        await next(context);
    });
}
