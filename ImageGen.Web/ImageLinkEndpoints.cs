using ImageGen.Web.Services;
using Microsoft.AspNetCore.Components.Authorization;

namespace ImageGen.Web;

/// <summary>
/// The gallery's endpoints outside its circuit. Fresh links for an image whose link stopped working (images.js calls it when an image fails to load). The browser
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
        app.MapGet("/gallery/download", Download).RequireAuthorization();
        return app;
    }

    /// <summary>
    /// The gallery's "download selected": the API's zip of the images named in <c>ids</c> (comma-separated), passed on
    /// to the browser as it arrives. A link, so the browser's own download takes it; it reads and changes nothing else.
    /// </summary>
    private static async Task Download(string? ids, HttpContext context, AuthenticationStateProvider authentication, ImageGenApiClient api,
        CancellationToken cancellationToken)
    {
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(context.User)));
        }

        var parsed = (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(id => Guid.TryParse(id, out var guid) ? guid : (Guid?)null).ToList();
        context.Response.Headers.CacheControl = "no-store";
        if (parsed.Count == 0 || parsed.Any(id => id is null))
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Name the images to download.", detail: "ids: a comma-separated list of image ids.")
                .ExecuteAsync(context);
            return;
        }

        using var response = await api.DownloadImagesAsync([.. parsed.Select(id => id!.Value)], cancellationToken);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in new[] { "Content-Type", "Content-Disposition" })
        {
            if (response.Content.Headers.TryGetValues(header, out var values))
            {
                context.Response.Headers[header] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, cancellationToken);
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
