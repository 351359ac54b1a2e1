using System.Security.Claims;
using System.Text.Json;
using ImageGen.Core.Accounts;
using StackExchange.Redis;

namespace ImageGen.Web.Services;

/// <summary>The API tokens of one signed-in browser session.</summary>
public sealed record SessionTokens(string AccessToken, string RefreshToken, DateTimeOffset AccessTokenExpiresAt);

/// <summary>
/// Keeps each session's API tokens on the server, in Redis, under a random session id. The browser holds only the
/// authentication cookie with that id: it never sees a token, and any web replica can serve it.
/// </summary>
public sealed class WebSessionStore(IConnectionMultiplexer redis, TimeProvider time)
{
    public const string SessionClaim = "imagegen:sid";
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);

    private static RedisKey Key(string sessionId) => "web:session:" + sessionId;

    public static string? SessionId(ClaimsPrincipal user) => user.FindFirstValue(SessionClaim);

    public async Task<string> CreateAsync(TokenResponse tokens)
    {
        var sessionId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        await SaveAsync(sessionId, tokens);
        return sessionId;
    }

    public Task SaveAsync(string sessionId, TokenResponse tokens) =>
        redis.GetDatabase().StringSetAsync(Key(sessionId),
            JsonSerializer.Serialize(new SessionTokens(tokens.AccessToken, tokens.RefreshToken, time.GetUtcNow().AddSeconds(tokens.ExpiresIn))),
            Lifetime);

    public async Task<SessionTokens?> GetAsync(string sessionId)
    {
        var value = await redis.GetDatabase().StringGetAsync(Key(sessionId));
        return value.HasValue ? JsonSerializer.Deserialize<SessionTokens>(value.ToString()) : null;
    }

    public Task DeleteAsync(string sessionId) => redis.GetDatabase().KeyDeleteAsync(Key(sessionId));
}
