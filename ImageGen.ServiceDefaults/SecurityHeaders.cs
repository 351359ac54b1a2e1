using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ImageGen.ServiceDefaults;

/// <summary>
/// The headers every response of every service carries: no content-type sniffing, never in a frame, no full URL in a
/// Referer sent elsewhere, and a Content-Security-Policy. Each service says which policy a response gets (the API's JSON
/// and images allow nothing to run; the web's pages and the API's reference page their own), and it replaces any policy a
/// framework wrote (Blazor's own frame-ancestors), except at the gateway, where a relayed response keeps the policy its
/// service gave it. Set when the response starts, so error pages and refusals written by any middleware carry them too.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The policy of a response that is no page: nothing may load or run, and it is never framed.</summary>
    public const string NothingRuns = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, Func<HttpContext, string>? policy = null, bool keepExistingPolicy = false)
    {
        policy ??= _ => NothingRuns;
        return app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                if (!keepExistingPolicy || !headers.ContainsKey("Content-Security-Policy"))
                {
                    headers.ContentSecurityPolicy = policy(context);
                }

                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
