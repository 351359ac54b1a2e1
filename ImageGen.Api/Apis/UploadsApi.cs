using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using ImageGen.Data.Storage;
using ImageGen.Rendering;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Apis;

/// <summary>Limits of image uploads, bound from <c>Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>The largest file taken (25 MB).</summary>
    public long MaxBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>The most pixels taken, read from the file's header before anything decodes it (40 MP).</summary>
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>What one account may keep in the image store, uploads and images together (1 GiB); checked when it uploads.</summary>
    public long QuotaBytes { get; set; } = 1L << 30;

    /// <summary>How long an upload no quest used is kept.</summary>
    public TimeSpan UnusedLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often each API instance looks for expired uploads.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Images people send in, to edit. Judged by content (PNG, JPEG, WebP), bounded in bytes and pixels before a full
/// decode, cleaned of metadata, kept owner-only in the image store. At most one decode per core at a time, shared fairly
/// between users (<see cref="Images.FairDecodeGate"/>).
/// </summary>
internal static class UploadsApi
{
    private const int FormOverhead = 64 * 1024;

    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/uploads").WithTags("Uploads").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Images));
        group.MapPost("/", Upload).RequireRateLimiting(LimitPolicies.Submit).DisableAntiforgery().WithName("Upload")
            .WithSummary("Send an image (multipart field 'file': PNG, JPEG or WebP) to edit; answers its id.");
        group.MapGet("/{id}", Download).RequireRateLimiting(LimitPolicies.Images).WithName("GetUpload").WithSummary("An upload's cleaned bytes, for its owner only.");
        group.MapGet("/", List).RequireRateLimiting(LimitPolicies.Read).WithName("ListUploads")
            .WithSummary("Your uploads, newest first (?limit=1..100, ?before=<id> for the next page), each with when it expires unless a quest uses it, and your stored bytes against the quota.");
        group.MapDelete("/{id}", Delete).RequireRateLimiting(LimitPolicies.Write).WithName("DeleteUpload")
            .WithSummary("Delete an upload (not while a queued or running quest uses it).");
        return app;
    }

    /// <summary>What an upload uses.</summary>
    public sealed record UploadServices(ImageGenDbContext Db, IImageStore Store, IOptions<UploadOptions> Options, TimeProvider Time);

    public static async Task<Results<Created<UploadDto>, ProblemHttpResult>> Upload(
        HttpContext context, [AsParameters] UploadServices services, CancellationToken cancellationToken)
    {
        var (db, limits) = (services.Db, services.Options.Value);
        var (form, unreadable) = await ReadFormAsync(context, limits.MaxBytes, limits, "file", cancellationToken);
        if (form is null)
        {
            return unreadable!;
        }

        if (form.Files.GetFile("file") is not { } file)
        {
            return ApiProblems.BadRequest(Core.Quests.ErrorCodes.Required, "file", "Send the image in a multipart field named 'file'.");
        }

        var (clean, refused) = await CleanAsync(await BytesAsync(file, cancellationToken), "file", context.User.UserId(), limits, cancellationToken);
        if (clean is null)
        {
            return refused!;
        }

        var (kept, overQuota) = await KeepAsync([clean], context.User.UserId(), services, cancellationToken);
        return kept is [var upload] ? TypedResults.Created($"/api/uploads/{upload.Id}", ToDto(upload, limits)) : overQuota!;
    }

    /// <summary>
    /// Reads a multipart form of images within limits: a body over <paramref name="maxBody"/> is refused from its
    /// Content-Length before a byte is read (and cut off if it comes chunked), and any file over the upload limit is
    /// refused; a body that does not parse is a <c>400 malformed_form</c>, never a 500.
    /// </summary>
    internal static async Task<(IFormCollection? Form, ProblemHttpResult? Problem)> ReadFormAsync(
        HttpContext context, long maxBody, UploadOptions limits, string field, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > maxBody + FormOverhead)
        {
            // Refused before a byte of the body is read; the connection closes rather than read the rest.
            context.Response.Headers.Connection = "close";
            return (null, TooLarge(maxBody, field));
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = maxBody + FormOverhead;
        }

        if (!context.Request.HasFormContentType)
        {
            return (null, ApiProblems.Status(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"Send the image as multipart/form-data, in a field named '{field}'.", field));
        }

        try
        {
            var form = await context.Request.ReadFormAsync(cancellationToken);
            return form.Files.FirstOrDefault(f => f.Length > limits.MaxBytes) is { } large
                ? (null, TooLarge(limits.MaxBytes, large.Name))
                : (form, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBody, field));
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !context.RequestAborted.IsCancellationRequested)
        {
            // A multipart body that does not parse or ends early, or a section over the form limits.
            return (null, ApiProblems.BadRequest("malformed_form", field, "The multipart body could not be read."));
        }
    }

    internal static async Task<byte[]> BytesAsync(IFormFile file, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream((int)file.Length);
        await file.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>
    /// Judges one image by its content and cleans it (pixels read from the header before any decode, at most one decode
    /// per core at a time); the problem, naming <paramref name="field"/>, when it is not an image taken here. Nothing
    /// is stored: a request keeps its files only once every one of them passed (<see cref="KeepAsync"/>).
    /// </summary>
    internal static async Task<(CleanUpload? Clean, ProblemHttpResult? Problem)> CleanAsync(byte[] bytes, string field, Guid userId, UploadOptions limits,
        CancellationToken cancellationToken)
    {
        using var slot = await Images.FairDecodeGate.ForThisMachine.EnterAsync(userId, cancellationToken);
        try
        {
            return (UploadInspector.Inspect(bytes, limits.MaxPixels), null);
        }
        catch (UploadRefusedException e)
        {
            return (null, ApiProblems.BadRequest(e.Code, field, e.Message));
        }
    }

    /// <summary>
    /// Keeps cleaned images for their owner, all or none: the files go to the store, then the rows are added under the
    /// account lock if the account's stored bytes stay within its quota (parallel uploads cannot pass it together);
    /// over it, the files are deleted again and the problem says how much is stored.
    /// </summary>
    internal static async Task<(List<Upload>? Kept, ProblemHttpResult? OverQuota)> KeepAsync(IReadOnlyList<CleanUpload> cleaned, Guid ownerId,
        UploadServices services, CancellationToken cancellationToken)
    {
        var (db, store, time, quota) = (services.Db, services.Store, services.Time, services.Options.Value.QuotaBytes);
        var uploads = cleaned.Select(clean =>
        {
            var id = Guid.CreateVersion7(time.GetUtcNow());
            return (Clean: clean, Row: new Upload
            {
                Id = id,
                UserId = ownerId,
                StorageKey = ImageKeys.KeyFor(id, ImageEncoding.Extension(clean.ContentType)),
                ContentType = clean.ContentType,
                Width = clean.Width,
                Height = clean.Height,
                Bytes = clean.Bytes.Length,
                CreatedAt = time.GetUtcNow(),
            });
        }).ToList();
        foreach (var (clean, row) in uploads)
        {
            await store.SaveAsync(row.StorageKey, clean.Bytes, clean.ContentType, cancellationToken);
        }

        var adding = uploads.Sum(u => u.Row.Bytes);
        long stored = 0;
        var within = false;
        await db.InAccountTransactionAsync(ownerId, async _ =>
        {
            stored = await db.StoredBytesAsync(ownerId, cancellationToken);
            within = stored + adding <= quota;
            if (within)
            {
                db.Uploads.AddRange(uploads.Select(u => u.Row));
            }

            return within;
        }, cancellationToken);
        if (within)
        {
            return ([.. uploads.Select(u => u.Row)], null);
        }

        foreach (var (_, row) in uploads)
        {
            await store.DeleteAsync(row.StorageKey, CancellationToken.None);
        }

        return (null, ApiProblems.Status(StatusCodes.Status409Conflict, "storage_quota_exceeded",
            $"You keep {Megabytes(stored)} MB of uploads and images; this would take you past your {Megabytes(quota)} MB. Delete uploads or images to make room.",
            "file"));
    }

    private static string Megabytes(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<Results<Ok<UploadPage>, ProblemHttpResult>> List(ClaimsPrincipal principal, [AsParameters] UploadServices services,
        int? limit, Guid? before, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 100)
        {
            return ApiProblems.BadRequest(Core.Quests.ErrorCodes.InvalidPaging, "limit", "limit is from 1 to 100.");
        }

        var (db, options) = (services.Db, services.Options.Value);
        var userId = principal.UserId();
        var take = limit ?? 50;
        var rows = await db.Uploads.AsNoTracking().Where(u => u.UserId == userId && (before == null || u.Id.CompareTo(before.Value) < 0))
            .OrderByDescending(u => u.Id).Take(take + 1).ToListAsync(cancellationToken);
        var page = rows.Take(take).ToList();
        return TypedResults.Ok(new UploadPage([.. page.Select(u => ToDto(u, options))], rows.Count > take ? page[^1].Id : null,
            await db.StoredBytesAsync(userId, cancellationToken), options.QuotaBytes));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store,
        CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var upload = Guid.TryParse(id, out var uploadId)
            ? await db.Uploads.FirstOrDefaultAsync(u => u.Id == uploadId && u.UserId == userId, cancellationToken)
            : null;
        if (upload is null)
        {
            return ApiProblems.NotFound("upload_not_found", $"There is no upload '{id}'.");
        }

        if (await db.UploadInUseAsync(userId, upload.Id, cancellationToken))
        {
            return ApiProblems.Status(StatusCodes.Status409Conflict, "upload_in_use", "A quest that has not ended uses this upload; delete it once the quest ends.");
        }

        db.Uploads.Remove(upload);
        await db.SaveChangesAsync(cancellationToken);
        await store.DeleteAsync(upload.StorageKey, CancellationToken.None);
        return TypedResults.NoContent();
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Download(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, IImageStore store, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        // Another user's upload answers exactly as a missing one does.
        var upload = Guid.TryParse(id, out var uploadId)
            ? await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == uploadId && u.UserId == userId, cancellationToken)
            : null;
        return upload is not null && await store.OpenReadAsync(upload.StorageKey, cancellationToken) is { } stream
            ? TypedResults.Stream(stream, upload.ContentType)
            : ApiProblems.NotFound("upload_not_found", $"There is no upload '{id}'.");
    }

    private static ProblemHttpResult TooLarge(long maxBytes, string field) =>
        ApiProblems.Status(StatusCodes.Status413PayloadTooLarge, "upload_too_large",
            $"The upload is larger than {maxBytes / (1024 * 1024)} MB.", field);

    private static UploadDto ToDto(Upload u, UploadOptions options) =>
        new(u.Id, u.ContentType, u.Width, u.Height, u.Bytes, u.CreatedAt, u.UsedAt is null ? u.CreatedAt + options.UnusedLifetime : null);
}
