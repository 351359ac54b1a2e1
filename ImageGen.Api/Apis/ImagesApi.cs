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
using ImageGen.Rendering;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace ImageGen.Api.Apis;

internal static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/images/{id}", GetImage).WithTags("Images").WithName("GetImage")
            .WithSummary("The bytes of one image or of a variant (?w=, ?fmt=, ?q=): with a valid signature from an API response, or with the owner's credentials.");

        var group = app.MapGroup("/api/images").WithTags("Images").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Images));
        group.MapGet("/", ListImages).WithName("ListImages").WithSummary("The caller's images, newest first, paged by cursor.");
        group.MapGet("/{id}", GetImageInfo).WithName("GetImageInfo").WithSummary("One image's metadata, signed URLs and placeholder.");
        group.MapPost("/{id}/signed-url", CreateSignedUrl).WithName("CreateSignedUrl")
            .WithSummary("A fresh signed URL for one of the caller's images (expiresIn 1 to 86400 seconds), for when an older one has expired.");
        group.MapDelete("/{id}", DeleteImage).WithName("DeleteImage")
            .WithSummary("Deletes one of the caller's images: its file and every variant go; the quest and the ledger stay.");
        return app;
    }

    public static async Task<Results<FileStreamHttpResult, RedirectHttpResult, StatusCodeHttpResult, ProblemHttpResult>> GetImage(
        string id, HttpContext http, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store, ImageDelivery delivery, ImageUrlSigner signer,
        TimeProvider time, CancellationToken cancellationToken, string? w = null, string? fmt = null, string? q = null, string? exp = null, string? sig = null)
    {
        // Refusals are not cached: the same URL may work once the caller has a fresh signature.
        http.Response.Headers.CacheControl = "no-store";
        if (!Guid.TryParse(id, out var imageId))
        {
            return NoSuchImage(id);
        }

        if (!ImageVariant.TryParse(w, fmt, q, out var variant, out var error))
        {
            return ApiProblems.BadRequest(error.Code, error.Field, error.Message);
        }

        var query = db.QuestImages.AsNoTracking().Where(i => i.Id == imageId);
        long? expires = null;
        if (exp is not null || sig is not null)
        {
            switch (signer.Check(imageId, variant.Name, exp, sig))
            {
                case SignatureCheck.Invalid:
                    return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.InvalidSignature,
                        "This image link is not valid (altered, or signed for another size or format). Ask the API for a fresh one.");
                case SignatureCheck.Expired:
                    return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.UrlExpired,
                        "This image link has expired. Ask for a fresh one: POST /api/images/{id}/signed-url.");
            }

            expires = long.Parse(exp!, NumberStyles.None, CultureInfo.InvariantCulture);
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

        var image = await query.FirstOrDefaultAsync(cancellationToken);
        if (Unavailable(image, id) is { } missing)
        {
            return missing;
        }

        // What to send: the stored bytes as they are, or a resized or re-encoded copy. Without ?fmt= the format
        // follows the browser's Accept header, so the answer varies by it.
        var negotiated = variant.Format is null && !variant.IsOriginal;
        var format = variant.Format ?? (negotiated ? (AcceptsWebp(http.Request) ? "webp" : "jpeg") : null);
        var width = Math.Min(variant.Width ?? image!.Width, image!.Width);
        var asStored = variant.IsOriginal
            || (width == image.Width && variant.Quality is null && ImageEncoding.ContentType(format!) == image.ContentType);
        var quality = ImageVariant.EffectiveQuality(format ?? "", variant.Quality ?? ImageVariant.DefaultQuality);
        var contentType = asStored ? image.ContentType : ImageEncoding.ContentType(format!);
        // Content never changes for an id and variant, so the checksum and the variant make a strong validator.
        var tag = new EntityTagHeaderValue(asStored
            ? $"\"{image.Checksum[..32]}\""
            : string.Create(CultureInfo.InvariantCulture, $"\"{image.Checksum[..32]}-w{width}q{quality}.{ImageEncoding.Extension(contentType)}\""));

        var headers = http.Response.Headers;
        headers.CacheControl = expires is { } until
            ? string.Create(CultureInfo.InvariantCulture, $"private, max-age={Math.Max(0, until - time.GetUtcNow().ToUnixTimeSeconds())}, immutable")
            : "private, no-cache";
        if (negotiated)
        {
            headers.Vary = "Accept";
        }

        headers.ETag = tag.ToString();
        if (EntityTagHeaderValue.TryParseList(http.Request.Headers.IfNoneMatch, out var matches) && matches.Any(m => m.Compare(tag, useStrongComparison: false) || m == EntityTagHeaderValue.Any))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        // A store that serves links itself gets the request: the variant is made once if missing, then the browser
        // is sent to the store's own signed link, which expires when this one does.
        var links = store as IDirectLinkStore;
        Stream? content = null;
        string? key;
        if (asStored)
        {
            key = image.StorageKey;
            content = links is null ? await store.OpenReadAsync(key, cancellationToken) : null;
        }
        else
        {
            StoredVariantResult? made;
            try
            {
                made = await delivery.VariantAsync(image.Id, image.StorageKey, width, format!, quality, open: links is null, cancellationToken);
            }
            catch (RenderQueueFullException)
            {
                headers.CacheControl = "no-store";
                headers.RetryAfter = "2";
                return ApiProblems.Status(StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable,
                    "Too many image sizes are being made right now; try again in a moment (the original is always available).");
            }

            key = made?.Key;
            content = made?.Content;
            headers["X-Cache"] = made is { Cached: true } ? "hit" : "miss";
        }

        if (links is not null && key is not null && (asStored ? await store.ExistsAsync(key, cancellationToken) : true))
        {
            var linkExpires = DateTimeOffset.FromUnixTimeSeconds(expires ?? signer.DefaultExpiry().ToUnixTimeSeconds());
            headers.ETag = default;
            return TypedResults.Redirect(links.LinkFor(key, linkExpires).ToString());
        }

        if (content is null)
        {
            headers.CacheControl = "no-store";
            return NoSuchImage(id);
        }

        return TypedResults.Stream(content, contentType, lastModified: image.CreatedAt, entityTag: tag, enableRangeProcessing: asStored);
    }

    public static async Task<Results<Ok<ImagePage>, ProblemHttpResult>> ListImages(
        ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, [AsParameters] PageRequest page, CancellationToken cancellationToken)
    {
        if (KeysetCursor.Read(page, out var size, out var after) is { } problem)
        {
            return problem;
        }

        var userId = principal.UserId();
        var images = db.QuestImages.AsNoTracking().Where(i => i.UserId == userId && i.DeletedAt == null);
        if (after is var (createdAt, lastId))
        {
            images = images.Where(i => EF.Functions.LessThan(ValueTuple.Create(i.CreatedAt, i.Id), ValueTuple.Create(createdAt, lastId)));
        }

        var rows = await WithQuests(db, images.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id).Take(size + 1))
            .ToListAsync(cancellationToken);
        var next = KeysetCursor.NextPage(rows, size, r => (r.Image.CreatedAt, r.Image.Id));

        var expires = signer.DefaultExpiry();
        return TypedResults.Ok(new ImagePage([.. rows.Select(r => ToDto(r.Image, r.Quest, signer, expires))], next));
    }

    public static async Task<Results<Ok<ImageDto>, ProblemHttpResult>> GetImageInfo(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, CancellationToken cancellationToken)
    {
        var (row, problem) = await FindOwnAsync(id, principal, db, cancellationToken);
        return problem ?? (Results<Ok<ImageDto>, ProblemHttpResult>)TypedResults.Ok(ToDto(row!.Image, row.Quest, signer, signer.DefaultExpiry()));
    }

    public static async Task<Results<Ok<SignedUrlResponse>, ProblemHttpResult>> CreateSignedUrl(
        string id, [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] SignedUrlRequest? request,
        ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, TimeProvider time, CancellationToken cancellationToken)
    {
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
        string id, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
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

    private sealed record ImageRow(QuestImage Image, Quest Quest);

    private static IQueryable<ImageRow> WithQuests(ImageGenDbContext db, IQueryable<QuestImage> images) =>
        images.Join(db.Quests, i => i.QuestId, q => q.Id, (i, q) => new ImageRow(i, q));

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

    private static bool AcceptsWebp(HttpRequest request) =>
        request.Headers.Accept.Any(a => a is not null && a.Contains("image/webp", StringComparison.OrdinalIgnoreCase));

    private static ImageDto ToDto(QuestImage image, Quest quest, ImageUrlSigner signer, DateTimeOffset expires)
    {
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
            Parameters = quest.Parameters,
            Seed = quest.Seed,
            Cost = quest.Cost,
            GenerationMilliseconds = quest.GenerationMilliseconds,
        };
    }
}
