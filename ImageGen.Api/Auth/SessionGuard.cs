using System.Security.Claims;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
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
internal sealed class SessionGuard(IConnectionMultiplexer redis, IServiceScopeFactory scopes, IOptions<IdentityOptions> identity)
{
    public const string SessionClaim = "imagegen:session";
    public const string RefreshClaim = "imagegen:refresh";

    /// <summary>How long a spent token or a revoked session is remembered: as long as a refresh token lives.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromDays(14);

    /// <summary>
    /// How long an account's stamp stays in Redis after it was last read from the database or changed: only a bound on
    /// memory, since every change writes the new one.
    /// </summary>
    private static readonly TimeSpan StampMemory = TimeSpan.FromHours(1);

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

        var stamp = user.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType);
        if (stamp is null)
        {
            return false;
        }

        // One round trip: whether the session was revoked, and the account's stamp as every instance sees it.
        var userId = user.UserId();
        var known = await redis.GetDatabase().StringGetAsync([RevokedKey(session), StampKey(userId)]);
        if (known[0].HasValue)
        {
            return false;
        }

        return stamp == (known[1].HasValue ? (string?)known[1] : await LoadStampAsync(userId));
    }

    /// <summary>
    /// Call before saving a new security stamp: forgets the recorded one, so that if recording the new one fails, every
    /// instance reads it from the database instead of trusting the old one.
    /// </summary>
    public Task StampChangingAsync(Guid userId) => redis.GetDatabase().KeyDeleteAsync(StampKey(userId));

    /// <summary>
    /// Call after saving a new security stamp (logout, a password change): records it where every API instance reads
    /// it, so that access tokens of the old one stop at once everywhere.
    /// </summary>
    public Task StampChangedAsync(ImageGenUser user) =>
        redis.GetDatabase().StringSetAsync(StampKey(user.Id), user.SecurityStamp, StampMemory);

    /// <summary>
    /// The stamp from the database, when Redis does not know it (the first request after it aged out or Redis lost its
    /// data), recorded only if no change recorded a newer one meanwhile: a change always writes after it is saved.
    /// </summary>
    private async Task<string?> LoadStampAsync(Guid userId)
    {
        string? stamp;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
            stamp = await db.Users.Where(u => u.Id == userId).Select(u => u.SecurityStamp).FirstOrDefaultAsync();
        }

        if (stamp is not null)
        {
            await redis.GetDatabase().StringSetAsync(StampKey(userId), stamp, StampMemory, When.NotExists);
        }

        return stamp;
    }

    private static RedisKey StampKey(Guid userId) => $"imagegen:user:stamp:{userId:N}";

    private static RedisKey RevokedKey(string session) => $"imagegen:session:revoked:{session}";
}
