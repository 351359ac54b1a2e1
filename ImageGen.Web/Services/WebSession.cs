using System.Security.Claims;
using System.Text.Json;
using ImageGen.Core.Accounts;
using StackExchange.Redis;

namespace ImageGen.Web.Services;

/// <summary>The API tokens of one signed-in browser session.</summary>
public sealed record SessionTokens(string AccessToken, string RefreshToken, DateTimeOffset AccessTokenExpiresAt);

/// <summary>
/// Keeps each session's API tokens on the server, in Redis, sealed with a key derived from a random session id
/// (<see cref="SessionSeal"/>). The browser holds only the authentication cookie with that id: it never sees a token,
/// Redis never sees the id, and any web replica can serve it.
/// </summary>
public sealed class WebSessionStore(IConnectionMultiplexer redis, TimeProvider time)
{
    public const string SessionClaim = "imagegen:sid";
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);

    private static RedisKey Key(string sessionId) => "web:session:" + SessionSeal.LookupName(sessionId);

    public static string? SessionId(ClaimsPrincipal user) => user.FindFirstValue(SessionClaim);

    public async Task<string> CreateAsync(TokenResponse tokens)
    {
        var sessionId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        await SaveAsync(sessionId, tokens);
        return sessionId;
    }

    public Task SaveAsync(string sessionId, TokenResponse tokens) =>
        redis.GetDatabase().StringSetAsync(Key(sessionId),
            SessionSeal.Seal(sessionId,
                JsonSerializer.Serialize(new SessionTokens(tokens.AccessToken, tokens.RefreshToken, time.GetUtcNow().AddSeconds(tokens.ExpiresIn)))),
            Lifetime);

    public async Task<SessionTokens?> GetAsync(string sessionId)
    {
        var value = await redis.GetDatabase().StringGetAsync(Key(sessionId));
        return value.HasValue && SessionSeal.Open(sessionId, value.ToString()) is { } plain
            ? JsonSerializer.Deserialize<SessionTokens>(plain)
            : null;
    }

    public Task DeleteAsync(string sessionId) => redis.GetDatabase().KeyDeleteAsync(Key(sessionId));

    /// <summary>
    /// Refreshes a session's tokens once, however many circuits (tabs) of it find them stale at the same moment: refresh
    /// tokens work once, and a second use ends the session. One caller takes a lock every web replica sees and refreshes;
    /// the others wait for it and take the tokens it saved. Null when the session ended.
    /// </summary>
    public async Task<SessionTokens?> RefreshOnceAsync(string sessionId, SessionTokens stale, Func<string, Task<TokenResponse?>> refresh)
    {
        var db = redis.GetDatabase();
        var lockKey = (RedisKey)("web:session-refresh:" + SessionSeal.LookupName(sessionId));
        var owner = Guid.NewGuid().ToString("N");
        var giveUp = time.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (time.GetUtcNow() < giveUp)
        {
            var current = await GetAsync(sessionId);
            if (current is null || current.RefreshToken != stale.RefreshToken)
            {
                // Ended, or another circuit refreshed it meanwhile.
                return current;
            }

            if (await db.LockTakeAsync(lockKey, owner, TimeSpan.FromSeconds(15)))
            {
                try
                {
                    current = await GetAsync(sessionId);
                    if (current is null || current.RefreshToken != stale.RefreshToken)
                    {
                        return current;
                    }

                    if (await refresh(current.RefreshToken) is not { } refreshed)
                    {
                        await DeleteAsync(sessionId);
                        return null;
                    }

                    await SaveAsync(sessionId, refreshed);
                    return await GetAsync(sessionId);
                }
                finally
                {
                    await db.LockReleaseAsync(lockKey, owner);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time);
        }

        return null;
    }
}
