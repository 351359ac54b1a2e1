using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Images;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace ImageGen.Api.Apis;

internal static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/images/{id}", GetImage).WithTags("Images").WithName("GetImage")
            .WithSummary("The bytes of one image: with a valid signature from an API response, or with the owner's credentials.");
        return app;
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetImage(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store, ImageUrlSigner signer,
        CancellationToken cancellationToken, string? exp = null, string? sig = null)
    {
        if (!Guid.TryParse(id, out var imageId))
        {
            return ApiProblems.NotFound(ErrorCodes.ImageNotFound, $"There is no image '{id}'.");
        }

        var query = db.QuestImages.AsNoTracking().Where(i => i.Id == imageId);
        if (exp is not null || sig is not null)
        {
            switch (signer.Check(imageId, ImageUrlSigner.Original, exp, sig))
            {
                case SignatureCheck.Invalid:
                    return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.InvalidSignature, "This image link is not valid. Ask the API for a fresh one.");
                case SignatureCheck.Expired:
                    return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.UrlExpired, "This image link has expired. Ask the API for a fresh one.");
            }
        }
        else if (principal.Identity?.IsAuthenticated == true)
        {
            // Without a signature only the owner may read it; anyone else sees what a missing image looks like.
            var userId = principal.UserId();
            query = query.Where(i => i.UserId == userId);
        }
        else
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, "unauthorized", "Use the signed link from the API, or send your credentials.");
        }

        var image = await query.FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        var stream = image is null ? null : store.OpenRead(image.StorageKey);
        if (image is null || stream is null)
        {
            return ApiProblems.NotFound(ErrorCodes.ImageNotFound, $"There is no image '{id}'.");
        }

        // Content never changes for an id, so the checksum is a strong validator.
        return TypedResults.Stream(stream, image.ContentType, lastModified: image.CreatedAt,
            entityTag: new EntityTagHeaderValue($"\"{image.Checksum}\""), enableRangeProcessing: true);
    }
}
