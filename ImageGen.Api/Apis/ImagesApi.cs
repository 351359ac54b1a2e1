using System.Globalization;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Images;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using ImageGen.Api.Limits;

namespace ImageGen.Api.Apis;

internal static partial class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/images/{id}", GetImage).RequireRateLimiting(LimitPolicies.Images).WithTags("Images").WithName("GetImage")
            .WithSummary("The bytes of one image or of a variant (?w=, ?fmt=, ?q=): with a valid signature from an API response, or with the owner's credentials.");

        var group = app.MapGroup("/api/images").WithTags("Images").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Images));
        group.MapGet("/", ListImages).RequireRateLimiting(LimitPolicies.Read).WithName("ListImages")
            .WithSummary("The caller's images, newest first, paged by cursor; narrowed by q (prompt words), model, status, from, to, favorite and collection.");
        group.MapPut("/{id}/favorite", MarkFavorite).RequireRateLimiting(LimitPolicies.Write).WithName("MarkFavorite").WithSummary("Marks one of the caller's images as a favourite.");
        group.MapDelete("/{id}/favorite", UnmarkFavorite).RequireRateLimiting(LimitPolicies.Write).WithName("UnmarkFavorite").WithSummary("Takes the favourite mark off one of the caller's images.");
        group.MapGet("/{id}", GetImageInfo).RequireRateLimiting(LimitPolicies.Read).WithName("GetImageInfo").WithSummary("One image's metadata, signed URLs and placeholder.");
        group.MapPost("/{id}/signed-url", CreateSignedUrl).RequireRateLimiting(LimitPolicies.Read).WithName("CreateSignedUrl")
            .WithSummary("A fresh signed URL for one of the caller's images (expiresIn 1 to 86400 seconds), for when an older one has expired.");
        group.MapDelete("/{id}", DeleteImage).RequireRateLimiting(LimitPolicies.Write).WithName("DeleteImage")
            .WithSummary("Deletes one of the caller's images: its file and every variant go; the quest and the ledger stay.");
        MapSharing(app, group);
        MapBulk(group);
        return app;
    }

    /// <summary>The query of an image read: the variant (<c>w</c>, <c>fmt</c>, <c>q</c>) and the link's signature (<c>exp</c>, <c>sig</c>).</summary>
    public sealed record ImageQuery(
        [FromQuery(Name = "w")] string? W = null, [FromQuery(Name = "fmt")] string? Fmt = null, [FromQuery(Name = "q")] string? Q = null,
        [FromQuery(Name = "exp")] string? Exp = null, [FromQuery(Name = "sig")] string? Sig = null);

    public static async Task<Results<FileStreamHttpResult, RedirectHttpResult, StatusCodeHttpResult, ProblemHttpResult>> GetImage(
        string id, [AsParameters] ImageQuery query, HttpContext http, ImageGenDbContext db, ImageDelivery delivery, CancellationToken cancellationToken)
    {
        // Refusals are not cached: the same URL may work once the caller has a fresh signature.
        http.Response.Headers.CacheControl = "no-store";
        if (!Guid.TryParse(id, out var imageId))
        {
            return NoSuchImage(id);
        }

        if (!ImageVariant.TryParse(query.W, query.Fmt, query.Q, out var variant, out var error))
        {
            return ApiProblems.BadRequest(error.Code, error.Field, error.Message);
        }

        var images = db.QuestImages.AsNoTracking().Where(i => i.Id == imageId);
        long? expires = null;
        if (query.Exp is not null || query.Sig is not null)
        {
            if (delivery.CheckLink(imageId, variant, query.Exp, query.Sig, out expires) is { } refused)
            {
                return refused;
            }
        }
        else if (http.User.Identity?.IsAuthenticated == true)
        {
            // Read by credentials, an image is the gallery's: a key needs the images scope (a signed link needs none).
            if (!http.User.Allows(ApiKeyScopes.Images))
            {
                return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.InsufficientScope,
                    $"This key's scopes do not include '{ApiKeyScopes.Images}'. Use a key that has it, or the image's signed link.");
            }

            // Without a signature only the owner may read it; anyone else sees what a missing image looks like.
            var userId = http.User.UserId();
            images = images.Where(i => i.UserId == userId);
        }
        else
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, "unauthorized", "Use the signed link from the API, or send your credentials.");
        }

        var image = await images.FirstOrDefaultAsync(cancellationToken);
        if (Unavailable(image, id) is { } missing)
        {
            return missing;
        }

        return await delivery.SendAsync(image!, variant, expires, http, cancellationToken) ?? NoSuchImage(id);
    }

    public static async Task<Results<Ok<ImagePage>, ProblemHttpResult>> ListImages(
        ClaimsPrincipal principal, [AsParameters] ImageServices services, [AsParameters] PageRequest page, [AsParameters] SearchFilter filter,
        CancellationToken cancellationToken, [FromQuery(Name = "collection")] string? collection = null)
    {
        var (db, signer) = (services.Db, services.Signer);
        if (KeysetCursor.Read(page, out var size, out var after) is { } problem)
        {
            return problem;
        }

        if (filter.Problem(out var status) is { } badFilter)
        {
            return badFilter;
        }

        var userId = principal.UserId();
        var images = db.QuestImages.AsNoTracking().Where(i => i.UserId == userId && i.DeletedAt == null);
        if (filter.Favorite is true)
        {
            images = images.Where(i => i.FavoriteAt != null);
        }

        if (collection is not null)
        {
            if (await CollectionsApi.FindAsync(db, collection, userId, cancellationToken) is not { } own)
            {
                return CollectionsApi.NoSuchCollection(collection);
            }

            images = images.Where(i => db.CollectionImages.Any(m => m.CollectionId == own.Id && m.ImageId == i.Id));
        }

        if (filter.NarrowsQuests)
        {
            // The image's own mark decides a favourite here, not its quest's other images.
            var quests = (filter with { Favorite = null }).Apply(db.Quests.Where(q => q.UserId == userId), status);
            images = images.Where(i => quests.Any(q => q.Id == i.QuestId));
        }
        if (after is var (createdAt, lastId))
        {
            images = images.Where(i => EF.Functions.LessThan(ValueTuple.Create(i.CreatedAt, i.Id), ValueTuple.Create(createdAt, lastId)));
        }

        var rows = await WithQuests(db, images.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id).Take(size + 1))
            .ToListAsync(cancellationToken);
        var next = KeysetCursor.NextPage(rows, size, r => (r.Image.CreatedAt, r.Image.Id));

        var expires = signer.DefaultExpiry();
        return TypedResults.Ok(new ImagePage([.. rows.Select(r => ToDto(r, signer, expires))], next));
    }

    public static async Task<Results<Ok<ImageDto>, ProblemHttpResult>> GetImageInfo(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, CancellationToken cancellationToken)
    {
        var (row, problem) = await FindOwnAsync(id, principal, db, cancellationToken);
        return problem ?? (Results<Ok<ImageDto>, ProblemHttpResult>)TypedResults.Ok(ToDto(row!, signer, signer.DefaultExpiry()));
    }

    /// <summary>What the gallery list and the signed-link handler use.</summary>
    public sealed record ImageServices(ImageGenDbContext Db, ImageUrlSigner Signer, TimeProvider Time);

    public static async Task<Results<Ok<SignedUrlResponse>, ProblemHttpResult>> CreateSignedUrl(
        string id, [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] SignedUrlRequest? request,
        ClaimsPrincipal principal, [AsParameters] ImageServices services, CancellationToken cancellationToken)
    {
        var (db, signer, time) = (services.Db, services.Signer, services.Time);
        request ??= new SignedUrlRequest();
        var seconds = request.ExpiresIn ?? SignedUrlRequest.DefaultExpiresIn;
        if (seconds is < 1 or > SignedUrlRequest.MaxExpiresIn)
        {
            return ApiProblems.BadRequest(ErrorCodes.ExpiresInOutOfRange, "expiresIn",
                $"expiresIn is a number of seconds from 1 to {SignedUrlRequest.MaxExpiresIn} (24 hours).");
        }

        if (!ImageVariant.TryParse(request.W?.ToString(CultureInfo.InvariantCulture), request.Fmt, request.Q?.ToString(CultureInfo.InvariantCulture),
                out var variant, out var error))
        {
            return ApiProblems.BadRequest(error.Code, error.Field, error.Message);
        }

        var (row, problem) = await FindOwnAsync(id, principal, db, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var expires = time.GetUtcNow().AddSeconds(seconds);
        var (_, variants) = signer.UrlsFor(row!.Image.Id, row.Image.Width, row.Image.ContentType, expires);
        return TypedResults.Ok(new SignedUrlResponse(signer.UrlFor(row.Image.Id, row.Image.ContentType, variant, expires), DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()), variants,
            row.Image.Width, row.Image.Height));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteImage(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var imageId))
        {
            return NoSuchImage(id);
        }

        var userId = principal.UserId();
        var now = time.GetUtcNow();
        // Marked first, so no link serves it from this moment; then the files go. Deleting twice is fine.
        var marked = await db.QuestImages.Where(i => i.Id == imageId && i.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.DeletedAt, i => i.DeletedAt ?? now), cancellationToken);
        if (marked == 0)
        {
            return NoSuchImage(id);
        }

        await store.DeleteImageAsync(imageId, cancellationToken);
        return TypedResults.NoContent();
    }

    private sealed record ImageRow(QuestImage Image, Quest Quest, bool Shared);

    private static IQueryable<ImageRow> WithQuests(ImageGenDbContext db, IQueryable<QuestImage> images) =>
        images.Join(db.Quests, i => i.QuestId, q => q.Id, (i, q) => new ImageRow(i, q, db.ImageShares.Any(s => s.ImageId == i.Id && s.RevokedAt == null)));

    /// <summary>One of the caller's images with its quest, or the problem to answer (missing, someone else's, deleted).</summary>
    private static async Task<(ImageRow? Row, ProblemHttpResult? Problem)> FindOwnAsync(string id, ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var imageId))
        {
            return (null, NoSuchImage(id));
        }

        var userId = principal.UserId();
        var row = await WithQuests(db, db.QuestImages.AsNoTracking().Where(i => i.Id == imageId && i.UserId == userId))
            .FirstOrDefaultAsync(cancellationToken);
        return (row, Unavailable(row?.Image, id));
    }

    private static ProblemHttpResult? Unavailable(QuestImage? image, string id) => image switch
    {
        null => NoSuchImage(id),
        { DeletedAt: not null } => ApiProblems.Status(StatusCodes.Status410Gone, ErrorCodes.ImageDeleted, "This image was deleted by its owner."),
        _ => null,
    };

    /// <summary>The one answer for a missing image, someone else's, or an id that is not one: nothing to see.</summary>
    private static ProblemHttpResult NoSuchImage(string id) => ApiProblems.NotFound(ErrorCodes.ImageNotFound, $"There is no image '{id}'.");

    public static Task<Results<NoContent, ProblemHttpResult>> MarkFavorite(string id, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time,
        CancellationToken cancellationToken) => SetFavoriteAsync(id, principal, db, time.GetUtcNow(), cancellationToken);

    public static Task<Results<NoContent, ProblemHttpResult>> UnmarkFavorite(string id, ClaimsPrincipal principal, ImageGenDbContext db,
        CancellationToken cancellationToken) => SetFavoriteAsync(id, principal, db, null, cancellationToken);

    /// <summary>Marks or unmarks one of the caller's images; someone else's, or no image, is not found; a deleted one is gone.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> SetFavoriteAsync(string id, ClaimsPrincipal principal, ImageGenDbContext db,
        DateTimeOffset? at, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var imageId))
        {
            return NoSuchImage(id);
        }

        var userId = principal.UserId();
        var image = await db.QuestImages.FirstOrDefaultAsync(i => i.Id == imageId && i.UserId == userId, cancellationToken);
        if (Unavailable(image, id) is { } gone)
        {
            return gone;
        }

        // Marking twice keeps the first time; the mark is idempotent either way.
        image!.FavoriteAt = at is null ? null : image.FavoriteAt ?? at;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static ImageDto ToDto(ImageRow row, ImageUrlSigner signer, DateTimeOffset expires)
    {
        var (image, quest) = (row.Image, row.Quest);
        var (url, variants) = signer.UrlsFor(image.Id, image.Width, image.ContentType, expires);
        return new ImageDto
        {
            Id = image.Id,
            QuestId = image.QuestId,
            Url = url,
            Variants = variants,
            Placeholder = image.Placeholder,
            Width = image.Width,
            Height = image.Height,
            ContentType = image.ContentType,
            Bytes = image.Bytes,
            CreatedAt = image.CreatedAt,
            Prompt = quest.Prompt,
            Model = quest.Model,
            RequestedModel = quest.RequestedModel,
            Favorite = image.FavoriteAt is not null,
            Shared = row.Shared,
            Parameters = quest.Parameters,
            Seed = quest.Seed,
            Cost = quest.Cost,
            GenerationMilliseconds = quest.GenerationMilliseconds,
        };
    }
}
