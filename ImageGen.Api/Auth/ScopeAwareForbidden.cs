using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ImageGen.Api.Auth;

/// <summary>
/// A key refused for lack of a scope (or for being a key where only a session will do) is told so with its own code,
/// rather than a bare 403: the fix is a key made with that scope, from the account page.
/// </summary>
internal sealed class ScopeAwareForbidden(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (!result.Forbidden || !context.User.IsApiKey())
        {
            await _default.HandleAsync(next, context, policy, result);
            return;
        }

        var sessionOnly = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == AuthSchemes.SessionPolicy) == true;
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Forbidden.",
                Detail = sessionOnly
                    ? "This needs a signed-in session; an API key cannot do it."
                    : "This API key's scopes do not cover this. Make a key with the scope it needs on your account page.",
                Extensions = { ["code"] = sessionOnly ? ErrorCodes.SessionRequired : ErrorCodes.InsufficientScope },
            },
        });
    }
}
