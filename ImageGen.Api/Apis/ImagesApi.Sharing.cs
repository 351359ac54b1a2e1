using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ImageGen.Api.Images;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

/// <summary>
/// Public links: an owner shares one image under a random token (<c>/images/shared/{token}</c>) that anyone may open
/// without an account, and revokes it at will. Only the token's hash is stored. A wrong token and a revoked one take
/// the same query and get the same 404; the link has its own per-address limit, tells search engines to stay out, and
/// lets a copy be kept a minute at most, so a revocation holds at once for the server and within a minute anywhere.
/// </summary>
internal static partial class ImagesApi
{
    /// <summary>How long a browser may keep a shared image (and how long the store's redirect link lives).</summary>
    public const int SharedCopySeconds = 60;

    /// <summary>A token is 32 random bytes in base64url: 43 characters.</summary>
    private const int TokenLength = 43;

    private static void MapSharing(IEndpointRouteBuilder app, RouteGroupBuilder images)
    {
        images.MapPost("/{id}/share", ShareImage).RequireRateLimiting(LimitPolicies.Write).WithName("ShareImage")
            .WithSummary("Makes a public link to one of the caller's images that needs no account; sharing again replaces the link.");
        images.MapDelete("/{id}/share", UnshareImage).RequireRateLimiting(LimitPolicies.Write).WithName("UnshareImage")
            .WithSummary("Revokes the image's public link at once.");
        app.MapGet("/images/shared/{token}", GetSharedImage).AllowAnonymous().RequireRateLimiting(LimitPolicies.Shared).WithTags("Images")
            .WithName("GetSharedImage").WithSummary("A shared image's bytes (or a variant: ?w=, ?fmt=, ?q=), for anyone with the link.");
    }

    public static async Task<Results<Created<ShareLinkResponse>, ProblemHttpResult>> ShareImage(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (row, problem) = await FindOwnAsync(id, principal, db, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var imageId = row!.Image.Id;
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // One live link per image: the new one ends the old. Shares of one image take turns on its row, so two at
            // once cannot each miss the other's link (a unique index on the live link holds it too).
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM quest_images WHERE id = {imageId} FOR UPDATE", cancellationToken);
            await db.ImageShares.Where(s => s.ImageId == imageId && s.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), cancellationToken);
            db.ImageShares.Add(new ImageShare { Id = Guid.CreateVersion7(), ImageId = imageId, UserId = row.Image.UserId, TokenHash = HashOf(token), CreatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

        var url = $"/images/shared/{token}";
        return TypedResults.Created(url, new ShareLinkResponse(url, token, now));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> UnshareImage(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var imageId))
        {
            return NoSuchImage(id);
        }

        var userId = principal.UserId();
        if (!await db.QuestImages.AnyAsync(i => i.Id == imageId && i.UserId == userId, cancellationToken))
        {
            return NoSuchImage(id);
        }

        // Revoking what is not shared is fine: the answer is the same either way.
        var now = time.GetUtcNow();
        await db.ImageShares.Where(s => s.ImageId == imageId && s.UserId == userId && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<FileStreamHttpResult, RedirectHttpResult, StatusCodeHttpResult, ProblemHttpResult>> GetSharedImage(
        string token, [AsParameters] ImageQuery query, HttpContext http, [AsParameters] SharedImageServices services, CancellationToken cancellationToken)
    {
        var (db, delivery, time) = (services.Db, services.Delivery, services.Time);
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers["X-Robots-Tag"] = "noindex, nofollow, noarchive";
        headers["Referrer-Policy"] = "no-referrer";
        if (!ImageVariant.TryParse(query.W, query.Fmt, query.Q, out var variant, out var error))
        {
            return ApiProblems.BadRequest(error.Code, error.Field, error.Message);
        }

        // Only the shape of a token is checked before the lookup; every well-formed token, live, revoked or never
        // made, takes the same one query.
        QuestImage? image = null;
        if (token.Length == TokenLength && Base64Url.IsValid(token))
        {
            var hash = HashOf(token);
            image = await db.ImageShares.AsNoTracking().Where(s => s.TokenHash == hash && s.RevokedAt == null)
                .Join(db.QuestImages.Where(i => i.DeletedAt == null), s => s.ImageId, i => i.Id, (_, i) => i)
                .FirstOrDefaultAsync(cancellationToken);
        }

        if (image is null)
        {
            return NoSharedImage();
        }

        var expires = time.GetUtcNow().AddSeconds(SharedCopySeconds).ToUnixTimeSeconds();
        return await delivery.SendAsync(image, variant, expires, http, cancellationToken) ?? NoSharedImage();
    }

    /// <summary>What the shared-link handler uses.</summary>
    public sealed record SharedImageServices(ImageGenDbContext Db, ImageDelivery Delivery, TimeProvider Time);

    private static ProblemHttpResult NoSharedImage() =>
        ApiProblems.NotFound(ErrorCodes.ShareNotFound, "This link does not open an image: it was never made, or its owner took it back.");

    private static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));
}
