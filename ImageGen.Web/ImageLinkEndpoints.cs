using ImageGen.Web.Services;
using Microsoft.AspNetCore.Components.Authorization;

namespace ImageGen.Web;

/// <summary>
/// Fresh links for an image whose link stopped working (images.js calls it when an image fails to load). The browser
/// sends only its session cookie; the API call is made here, with the person's token from the server-side session.
/// </summary>
internal static class ImageLinkEndpoints
{
    /// <summary>
    /// How long a refreshed link lives: longer than a page's first links (an hour, rounded up to five minutes), as the
    /// page has already outlived one, and so always later than the link that failed.
    /// </summary>
    public static readonly TimeSpan RefreshedLinkLifetime = TimeSpan.FromHours(2);

    public static IEndpointRouteBuilder MapImageLinkEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/image-links/{id:guid}", GetLinks).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> GetLinks(Guid id, HttpContext context, AuthenticationStateProvider authentication, ImageGenApiClient api,
        CancellationToken cancellationToken, int w = 0)
    {
        // Outside a circuit nobody has told the provider who is asking; it is the person behind this request.
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(context.User)));
        }

        context.Response.Headers.CacheControl = "no-store";
        var result = await api.CreateImageLinksAsync(id, RefreshedLinkLifetime, cancellationToken);
        if (result.Value is not { } fresh)
        {
            return Results.Problem(statusCode: result.Problem?.Status ?? StatusCodes.Status502BadGateway, title: result.Problem?.Title,
                detail: result.Problem?.Detail, extensions: new Dictionary<string, object?> { ["code"] = result.Problem?.Code });
        }

        var links = ImageLinks.From(id, fresh);
        return Results.Ok(new { src = links.Src(w), srcset = links.SrcSet(), width = links.Width, height = links.Height });
    }
}
