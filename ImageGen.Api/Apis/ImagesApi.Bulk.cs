using System.IO.Compression;
using System.Security.Claims;
using System.Text;
using ImageGen.Api.Auth;
using ImageGen.Api.Images;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Rendering;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

/// <summary>
/// Many images at once: delete them, or download them as one zip. Both take at most <see cref="ImageIdsRequest.MaxIds"/>
/// ids. The zip is written to the response as each image is read from the store, never held whole.
/// </summary>
internal static partial class ImagesApi
{
    private static void MapBulk(RouteGroupBuilder images)
    {
        images.MapPost("/bulk-delete", BulkDelete).RequireRateLimiting(LimitPolicies.Write).WithName("BulkDeleteImages")
            .WithSummary("Deletes several of the caller's images; ids that name none of theirs are listed back, not deleted.");
        images.MapPost("/download", Download).RequireRateLimiting(LimitPolicies.Images).WithName("DownloadImages")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .WithSummary("Several of the caller's images as one zip, streamed; every id must name one of theirs.");
    }

    public static async Task<Results<Ok<BulkDeleteResponse>, ProblemHttpResult>> BulkDelete(
        ImageIdsRequest? request, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (CheckIds(request) is { } problem)
        {
            return problem;
        }

        var ids = request!.Ids!.Distinct().ToList();
        var userId = principal.UserId();
        var own = await db.QuestImages.AsNoTracking().Where(i => ids.Contains(i.Id) && i.UserId == userId)
            .Select(i => new { i.Id, i.DeletedAt }).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var toDelete = own.Where(i => i.DeletedAt is null).Select(i => i.Id).ToList();
        // Marked first, so no link serves them from this moment; then the files go. Already deleted ones count as done.
        var marked = await db.QuestImages.Where(i => toDelete.Contains(i.Id) && i.UserId == userId && i.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.DeletedAt, now), cancellationToken);
        foreach (var id in toDelete)
        {
            await store.DeleteImageAsync(id, cancellationToken);
        }

        var found = own.Select(i => i.Id).ToHashSet();
        return TypedResults.Ok(new BulkDeleteResponse(marked, [.. ids.Where(id => !found.Contains(id))]));
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> Download(
        ImageIdsRequest? request, ClaimsPrincipal principal, HttpContext http, ImageGenDbContext db, IImageStore store, CancellationToken cancellationToken)
    {
        if (CheckIds(request) is { } problem)
        {
            return problem;
        }

        var ids = request!.Ids!.Distinct().ToList();
        var userId = principal.UserId();
        var rows = await db.QuestImages.AsNoTracking().Where(i => ids.Contains(i.Id) && i.UserId == userId && i.DeletedAt == null)
            .Join(db.Quests, i => i.QuestId, q => q.Id, (i, q) => new { i.Id, i.StorageKey, i.ContentType, i.CreatedAt, q.Prompt })
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id)
            .ToListAsync(cancellationToken);
        if (rows.Count < ids.Count)
        {
            var missing = ids.Except(rows.Select(r => r.Id)).ToList();
            return ApiProblems.Status(StatusCodes.Status404NotFound, ErrorCodes.ImageNotFound,
                $"{missing.Count} of the ids name no image of yours (deleted, someone else's, or none): {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}.",
                "ids");
        }

        http.Response.ContentType = "application/zip";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"imagegen-{DateTime.UtcNow:yyyyMMdd-HHmmss}.zip\"";
        http.Response.Headers.CacheControl = "no-store";
        // The zip writer still writes each entry's small trailer synchronously: the body takes those into a buffer.
        var body = new AsyncWriteStream(http.Response.Body);
        await using (var zip = await ZipArchive.CreateAsync(body, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellationToken))
        {
            foreach (var row in rows)
            {
                await using var content = await store.OpenReadAsync(row.StorageKey, cancellationToken);
                if (content is null)
                {
                    // A file gone from the store is left out; the others still arrive.
                    continue;
                }

                // Images are compressed already: stored as they are.
                var entry = zip.CreateEntry(EntryName(row.CreatedAt, row.Prompt, row.Id, row.ContentType), CompressionLevel.NoCompression);
                entry.LastWriteTime = row.CreatedAt;
                await using var target = await entry.OpenAsync(cancellationToken);
                await content.CopyToAsync(target, cancellationToken);
            }
        }

        await body.FlushAsync(cancellationToken);
        return TypedResults.Empty;
    }

    /// <summary>The problem with a list of ids, naming the field; null when it is usable.</summary>
    private static ProblemHttpResult? CheckIds(ImageIdsRequest? request) => request?.Ids switch
    {
        null or { Count: 0 } => ApiProblems.BadRequest(ErrorCodes.Required, "ids", "Name the images in 'ids' (a list of image ids)."),
        { Count: > ImageIdsRequest.MaxIds } ids => ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "ids",
            $"At most {ImageIdsRequest.MaxIds} images at once; {ids.Count} were named. Split the list."),
        _ => null,
    };

    /// <summary>A file name a person can sort and read: when it was made, the prompt's first words, and the id's start.</summary>
    internal static string EntryName(DateTimeOffset createdAt, string prompt, Guid id, string contentType)
    {
        var words = new StringBuilder();
        foreach (var c in prompt)
        {
            if (words.Length >= 40)
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c))
            {
                words.Append(char.ToLowerInvariant(c));
            }
            else if (words.Length > 0 && words[^1] != '-')
            {
                words.Append('-');
            }
        }

        var slug = words.ToString().TrimEnd('-');
        return $"{createdAt.UtcDateTime:yyyyMMdd-HHmmss}-{(slug.Length > 0 ? slug + "-" : "")}{id.ToString("N")[..8]}.{ImageEncoding.Extension(contentType)}";
    }
}
