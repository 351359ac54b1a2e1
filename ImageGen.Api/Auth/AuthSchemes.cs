using System.Security.Claims;

namespace ImageGen.Api.Auth;

internal static class AuthSchemes
{
    /// <summary>Looks at the bearer credential and forwards to the API-key or the Identity bearer-token handler.</summary>
    public const string Default = "ImageGen";
    public const string ApiKey = "ApiKey";
    public const string AdminPolicy = "admin";

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
