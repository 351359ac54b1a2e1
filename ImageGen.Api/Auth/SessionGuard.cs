using System.Security.Claims;
using ImageGen.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Api.Auth;

/// <summary>
/// Sessions that really end. A sign-in starts a session (a family of refresh tokens); every refresh spends its token and
/// hands out the next one. Using a spent token again means it was stolen (or copied): the whole session is revoked,
/// thief and owner alike, as the OAuth 2.0 security best current practice asks. Access tokens carry the session and
/// the account's security stamp, and each request checks both, so logout, a password change or a revoked session
/// stops an access token at once rather than when it expires.
/// </summary>
internal sealed class SessionGuard(IConnectionMultiplexer redis, IMemoryCache cache, IServiceScopeFactory scopes, IOptions<IdentityOptions> identity)
{
    public const string SessionClaim = "imagegen:session";
    public const string RefreshClaim = "imagegen:refresh";

    /// <summary>How long a spent token or a revoked session is remembered: as long as a refresh token lives.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromDays(14);

    /// <summary>How long a security stamp read from the database is trusted: the most an ended session may still be served.</summary>
    private static readonly TimeSpan StampCache = TimeSpan.FromSeconds(1);

    /// <summary>The principal to issue tokens for: the session it belongs to and a new refresh token id.</summary>
    public static ClaimsPrincipal Issue(ClaimsPrincipal principal, string session)
    {
        var identity = (ClaimsIdentity)principal.Identity!;
        foreach (var claim in identity.FindAll(c => c.Type is SessionClaim or RefreshClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }

        identity.AddClaim(new Claim(SessionClaim, session));
        identity.AddClaim(new Claim(RefreshClaim, Guid.NewGuid().ToString("N")));
        return principal;
    }

    public static string NewSession() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// Spends the refresh token of <paramref name="ticket"/>: its session if this is its first use; null if the token was
    /// spent before (the session is revoked now) or its session was revoked.
    /// </summary>
    public async Task<string?> SpendAsync(ClaimsPrincipal ticket)
    {
        var session = ticket.FindFirstValue(SessionClaim);
        var token = ticket.FindFirstValue(RefreshClaim);
        if (session is null || token is null)
        {
            return null;
        }

        var db = redis.GetDatabase();
        if (await db.KeyExistsAsync(RevokedKey(session)))
        {
            return null;
        }

        if (!await db.StringSetAsync($"imagegen:refresh:spent:{token}", session, Memory, When.NotExists))
        {
            await RevokeAsync(session);
            return null;
        }

        return session;
    }

    public Task RevokeAsync(string session) => redis.GetDatabase().StringSetAsync(RevokedKey(session), "1", Memory);

    /// <summary>False when a bearer-token principal's session was revoked or its account's security stamp changed.</summary>
    public async Task<bool> IsCurrentAsync(ClaimsPrincipal user)
    {
        var session = user.FindFirstValue(SessionClaim);
        if (session is null)
        {
            // An API key: its handler checks revocation on every request.
            return true;
        }

        if (await redis.GetDatabase().KeyExistsAsync(RevokedKey(session)))
        {
            return false;
        }

        var stamp = user.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        return stamp is not null && stamp == await CurrentStampAsync(user.UserId());
    }

    private async Task<string?> CurrentStampAsync(Guid userId) =>
        await cache.GetOrCreateAsync(("stamp", userId), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = StampCache;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
            return await db.Users.Where(u => u.Id == userId).Select(u => u.SecurityStamp).FirstOrDefaultAsync();
        });

    /// <summary>Forgets a cached stamp on this instance at once (the others forget theirs within a second).</summary>
    public void Forget(Guid userId) => cache.Remove(("stamp", userId));

    private static RedisKey RevokedKey(string session) => $"imagegen:session:revoked:{session}";
}
