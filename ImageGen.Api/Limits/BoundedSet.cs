using StackExchange.Redis;

namespace ImageGen.Api.Limits;

/// <summary>
/// A Redis sorted set that holds at most a given number of live members: entries scored below a floor are dropped, and
/// a new one is added only while fewer than the maximum remain, in one script (so two callers cannot both take the
/// last place, on any instance). The sign-up cap counts accounts in a day with it; the hub, live connections per user.
/// </summary>
internal static class BoundedSet
{
    private static readonly LuaScript Take = LuaScript.Prepare("""
        redis.call('ZREMRANGEBYSCORE', @key, '-inf', @floor)
        if redis.call('ZCARD', @key) >= tonumber(@max) then return 0 end
        redis.call('ZADD', @key, @score, @member)
        redis.call('PEXPIRE', @key, @lifetime)
        return 1
        """);

    /// <summary>
    /// Drops members scored at or below <paramref name="floor"/>, then adds <paramref name="member"/> at
    /// <paramref name="score"/> if fewer than <paramref name="max"/> remain; true when it was added. The whole set expires
    /// <paramref name="lifetime"/> after its last addition.
    /// </summary>
    public static async Task<bool> TryAddAsync(IDatabase redis, RedisKey key, string member, double score, double floor, int max, TimeSpan lifetime) =>
        (int)await redis.ScriptEvaluateAsync(Take, new { key, floor, max, score, member, lifetime = (long)lifetime.TotalMilliseconds }) == 1;

    /// <summary>
    /// One place in a sliding window of <paramref name="window"/> that holds at most <paramref name="max"/>: its id when
    /// taken (to give back with <c>SortedSetRemoveAsync</c>), null when the window is full.
    /// </summary>
    public static async Task<string?> TakePlaceAsync(IDatabase redis, RedisKey key, TimeSpan window, int max, TimeProvider time)
    {
        var place = Guid.NewGuid().ToString("N");
        var now = time.GetUtcNow();
        return await TryAddAsync(redis, key, place, score: now.ToUnixTimeMilliseconds(), floor: (now - window).ToUnixTimeMilliseconds(), max, lifetime: window)
            ? place
            : null;
    }
}
