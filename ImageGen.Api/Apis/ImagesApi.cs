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
    public static string UrlFor(Guid imageId) => $"/images/{imageId:N}";

    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/images/{id}", GetImage).WithTags("Images").WithName("GetImage").WithSummary("The bytes of one generated image.");
        return app;
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetImage(
        string id, ImageGenDbContext db, IImageStore store, CancellationToken cancellationToken)
    {
        var image = Guid.TryParse(id, out var imageId)
            ? await db.QuestImages.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, cancellationToken).ConfigureAwait(false)
            : null;
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
