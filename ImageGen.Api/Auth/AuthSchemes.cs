using System.Security.Claims;

namespace ImageGen.Api.Auth;

internal static class AuthSchemes
{
    /// <summary>Looks at the bearer credential and forwards to the API-key or the Identity bearer-token handler.</summary>
    public const string Default = "ImageGen";
    public const string ApiKey = "ApiKey";
    public const string AdminPolicy = "admin";

    /// <summary>Only a signed-in session, never an API key (making keys, logging out, changing the password).</summary>
    public const string SessionPolicy = "session";

    /// <summary>The policy for one scope: any signed-in session, or a key that carries the scope.</summary>
    public static string ScopePolicy(string scope) => "scope:" + scope;

    public static bool IsApiKey(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == "api_key_id");

    /// <summary>The API key the request came with; null for a signed-in session.</summary>
    public static Guid? ApiKeyId(this ClaimsPrincipal user) => Guid.TryParse(user.FindFirstValue("api_key_id"), out var id) ? id : null;

    /// <summary>A session may do what its account may; a key, what its scopes say.</summary>
    public static bool Allows(this ClaimsPrincipal user, string scope) =>
        !user.IsApiKey() || user.HasClaim(Core.Accounts.ApiKeyScopes.Claim, scope);

    /// <summary>Where a credential comes from: the Authorization header, or for hub connections the access_token query.</summary>
    public static string? BearerCredential(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        // Browsers cannot set headers on WebSocket requests, so SignalR sends the token in the query string.
        return context.Request.Path.StartsWithSegments("/hubs") ? context.Request.Query["access_token"].ToString() : null;
    }

    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? id
            : throw new InvalidOperationException("The request is not authenticated.");
}
