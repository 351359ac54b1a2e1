using System.Security.Claims;
using System.Text.Encodings.Web;
using ImageGen.Core.Accounts;
using ImageGen.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Auth;

/// <summary>Authenticates <c>Authorization: Bearer igk_...</c> against the stored key hashes.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ImageGenDbContext db,
    TimeProvider time,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>Last use is recorded at most this often per key, so a busy key does not write on every request.</summary>
    private static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    private string _failureCode = "invalid_api_key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = AuthSchemes.BearerCredential(Context);
        if (!ApiKeyFormat.LooksLikeKey(key))
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiKeyFormat.IsWellFormed(key!))
        {
            return AuthenticateResult.Fail("The API key is malformed.");
        }

        var prefix = ApiKeyFormat.PrefixOf(key!);
        var stored = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Prefix == prefix, Context.RequestAborted);
        if (stored is null || !ApiKeyFormat.Matches(key!, stored.Hash))
        {
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        if (stored.RevokedAt is not null)
        {
            _failureCode = "api_key_revoked";
            return AuthenticateResult.Fail("The API key was revoked.");
        }

        var now = time.GetUtcNow();
        if (stored.ExpiresAt <= now)
        {
            _failureCode = "api_key_expired";
            return AuthenticateResult.Fail("The API key expired.");
        }

        if (stored.LastUsedAt is null || now - stored.LastUsedAt > LastUseResolution)
        {
            await db.ApiKeys.Where(k => k.Id == stored.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);
        }

        var roles = await db.UserRoles.Where(ur => ur.UserId == stored.UserId)
            .Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!)
            .ToListAsync(Context.RequestAborted);
        var email = await db.Users.Where(u => u.Id == stored.UserId).Select(u => u.Email).FirstOrDefaultAsync(Context.RequestAborted);

        List<Claim> claims = [new(ClaimTypes.NameIdentifier, stored.UserId.ToString()), new(ClaimTypes.Name, email ?? ""), new("api_key_id", stored.Id.ToString())];
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(stored.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(scope => new Claim(ApiKeyScopes.Claim, scope)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Not authenticated.",
                Detail = _failureCode switch
                {
                    "api_key_revoked" => "This API key was revoked. Create a new one on your account page.",
                    "api_key_expired" => "This API key expired. Create a new one on your account page.",
                    _ => "The API key is not valid. Check that it was copied whole.",
                },
                Extensions = { ["code"] = _failureCode },
            },
        });
    }
}
