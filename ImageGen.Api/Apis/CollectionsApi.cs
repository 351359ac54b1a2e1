using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

/// <summary>
/// Named collections of the caller's images: create, rename, delete (the images stay), add and remove images; an image
/// may be in several. <c>GET /api/images?collection={id}</c> lists one. Someone else's collection, like someone else's
/// image, answers as if it did not exist.
/// </summary>
internal static class CollectionsApi
{
    public static IEndpointRouteBuilder MapCollectionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/collections").WithTags("Collections").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Images));
        group.MapGet("/", List).RequireRateLimiting(LimitPolicies.Read).WithName("ListCollections").WithSummary("The caller's collections, by name, with how many images each holds.");
        group.MapPost("/", Create).RequireRateLimiting(LimitPolicies.Write).WithName("CreateCollection").WithSummary("Creates a named collection.");
        group.MapPatch("/{id}", Rename).RequireRateLimiting(LimitPolicies.Write).WithName("RenameCollection").WithSummary("Renames one of the caller's collections.");
        group.MapDelete("/{id}", Delete).RequireRateLimiting(LimitPolicies.Write).WithName("DeleteCollection").WithSummary("Deletes a collection; its images stay in the gallery.");
        group.MapPut("/{id}/images/{imageId}", AddImage).RequireRateLimiting(LimitPolicies.Write).WithName("AddToCollection").WithSummary("Puts one of the caller's images in the collection.");
        group.MapDelete("/{id}/images/{imageId}", RemoveImage).RequireRateLimiting(LimitPolicies.Write).WithName("RemoveFromCollection").WithSummary("Takes an image out of the collection.");
        return app;
    }

    public static async Task<Ok<List<CollectionDto>>> List(ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var collections = await db.Collections.AsNoTracking().Where(c => c.UserId == userId).OrderBy(c => c.Name)
            .Select(c => new CollectionDto(c.Id, c.Name,
                db.CollectionImages.Count(m => m.CollectionId == c.Id && db.QuestImages.Any(i => i.Id == m.ImageId && i.DeletedAt == null)), c.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(collections);
    }

    public static async Task<Results<Created<CollectionDto>, ProblemHttpResult>> Create(
        CollectionRequest? request, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (CheckName(request?.Name, out var name) is { } problem)
        {
            return problem;
        }

        var userId = principal.UserId();
        var collection = new Collection { Id = Guid.CreateVersion7(), UserId = userId, Name = name, CreatedAt = time.GetUtcNow() };
        ProblemHttpResult? refused = null;
        // Under the account lock, so parallel creates cannot pass the cap or the name check together.
        await db.InAccountTransactionAsync(userId, async _ =>
        {
            refused = await db.Collections.CountAsync(c => c.UserId == userId, cancellationToken) >= Collection.MaxPerUser
                ? ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.CollectionLimitReached,
                    $"An account keeps at most {Collection.MaxPerUser} collections; delete one first.")
                : await NameTakenAsync(db, userId, name, null, cancellationToken);
            if (refused is null)
            {
                db.Collections.Add(collection);
            }

            return refused is null;
        }, cancellationToken);
        return refused ?? (Results<Created<CollectionDto>, ProblemHttpResult>)TypedResults.Created($"/api/collections/{collection.Id}",
            new CollectionDto(collection.Id, collection.Name, 0, collection.CreatedAt));
    }

    public static async Task<Results<Ok<CollectionDto>, ProblemHttpResult>> Rename(
        string id, CollectionRequest? request, ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        if (CheckName(request?.Name, out var name) is { } problem)
        {
            return problem;
        }

        var userId = principal.UserId();
        ProblemHttpResult? refused = null;
        Collection? collection = null;
        await db.InAccountTransactionAsync(userId, async _ =>
        {
            collection = await FindAsync(db, id, userId, cancellationToken);
            refused = collection is null ? NoSuchCollection(id) : await NameTakenAsync(db, userId, name, collection.Id, cancellationToken);
            if (refused is null)
            {
                collection!.Name = name;
            }

            return refused is null;
        }, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var count = await db.CollectionImages.CountAsync(m => m.CollectionId == collection!.Id && db.QuestImages.Any(i => i.Id == m.ImageId && i.DeletedAt == null), cancellationToken);
        return TypedResults.Ok(new CollectionDto(collection!.Id, collection.Name, count, collection.CreatedAt));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var deleted = Guid.TryParse(id, out var collectionId)
            ? await db.Collections.Where(c => c.Id == collectionId && c.UserId == userId).ExecuteDeleteAsync(cancellationToken)
            : 0;
        return deleted == 0 ? NoSuchCollection(id) : TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> AddImage(
        string id, string imageId, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        if (await FindAsync(db, id, userId, cancellationToken) is not { } collection)
        {
            return NoSuchCollection(id);
        }

        var image = Guid.TryParse(imageId, out var parsed)
            ? await db.QuestImages.AsNoTracking().Where(i => i.Id == parsed && i.UserId == userId).Select(i => new { i.Id, i.DeletedAt }).FirstOrDefaultAsync(cancellationToken)
            : null;
        if (image is null)
        {
            return ApiProblems.NotFound(ErrorCodes.ImageNotFound, $"There is no image '{imageId}'.");
        }

        if (image.DeletedAt is not null)
        {
            return ApiProblems.Status(StatusCodes.Status410Gone, ErrorCodes.ImageDeleted, "This image was deleted by its owner.");
        }

        // Adding twice is fine: the first addition stands.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO collection_images (collection_id, image_id, added_at) VALUES ({collection.Id}, {image.Id}, {time.GetUtcNow()})
            ON CONFLICT DO NOTHING
            """, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveImage(
        string id, string imageId, ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        if (await FindAsync(db, id, userId, cancellationToken) is not { } collection)
        {
            return NoSuchCollection(id);
        }

        if (Guid.TryParse(imageId, out var image))
        {
            await db.CollectionImages.Where(m => m.CollectionId == collection.Id && m.ImageId == image).ExecuteDeleteAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }

    /// <summary>The caller's collection with this id, or null (not an id, someone else's, or none).</summary>
    internal static async Task<Collection?> FindAsync(ImageGenDbContext db, string id, Guid userId, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var collectionId)
            ? await db.Collections.FirstOrDefaultAsync(c => c.Id == collectionId && c.UserId == userId, cancellationToken)
            : null;

    internal static ProblemHttpResult NoSuchCollection(string id) => ApiProblems.NotFound(ErrorCodes.CollectionNotFound, $"There is no collection '{id}'.");

    private static async Task<ProblemHttpResult?> NameTakenAsync(ImageGenDbContext db, Guid userId, string name, Guid? except, CancellationToken cancellationToken) =>
        await db.Collections.AnyAsync(c => c.UserId == userId && c.Name == name && c.Id != except, cancellationToken)
            ? ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.CollectionNameTaken, $"You already have a collection named '{name}'.", "name")
            : null;

    /// <summary>A name is 1 to <see cref="Collection.MaxNameLength"/> printable characters, trimmed.</summary>
    private static ProblemHttpResult? CheckName(string? asked, out string name)
    {
        name = asked?.Trim() ?? "";
        if (name.Length == 0)
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "name", "Give the collection a name.");
        }

        if (name.Length > Collection.MaxNameLength)
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "name", $"A collection's name has at most {Collection.MaxNameLength} characters; this one has {name.Length}.");
        }

        return QuestValidator.FirstControlCharacter(name) is not null
            ? ApiProblems.BadRequest(ErrorCodes.ControlCharacters, "name", "The name holds a control character; only printable text is taken.")
            : null;
    }
}
