using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Entities;
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
}


/// <summary>
/// Images people send in, to edit. Judged by content (PNG, JPEG, WebP), bounded in bytes and pixels before a full
/// decode, cleaned of metadata, kept owner-only in the image store. At most one decode per core at a time.
/// </summary>
internal static class UploadsApi
{
    private const int FormOverhead = 64 * 1024;
    private static readonly SemaphoreSlim Decodes = new(Environment.ProcessorCount, Environment.ProcessorCount);

    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/uploads").WithTags("Uploads").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Images));
        group.MapPost("/", Upload).RequireRateLimiting(LimitPolicies.Submit).DisableAntiforgery().WithName("Upload")
            .WithSummary("Send an image (multipart field 'file': PNG, JPEG or WebP) to edit; answers its id.");
        group.MapGet("/{id}", Download).RequireRateLimiting(LimitPolicies.Images).WithName("GetUpload").WithSummary("An upload's cleaned bytes, for its owner only.");
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

        var (clean, refused) = await CleanAsync(await BytesAsync(file, cancellationToken), "file", limits, cancellationToken);
        if (clean is null)
        {
            return refused!;
        }

        var upload = await Keep(clean, context.User.UserId(), db, services.Store, services.Time, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        var id = upload.Id;
        return TypedResults.Created($"/api/uploads/{id}", ToDto(upload));
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
    /// is stored: a request keeps its files only once every one of them passed (<see cref="Keep"/>).
    /// </summary>
    internal static async Task<(CleanUpload? Clean, ProblemHttpResult? Problem)> CleanAsync(byte[] bytes, string field, UploadOptions limits,
        CancellationToken cancellationToken)
    {
        await Decodes.WaitAsync(cancellationToken);
        try
        {
            return (UploadInspector.Inspect(bytes, limits.MaxPixels), null);
        }
        catch (UploadRefusedException e)
        {
            return (null, ApiProblems.BadRequest(e.Code, field, e.Message));
        }
        finally
        {
            Decodes.Release();
        }
    }

    /// <summary>Keeps a cleaned image for its owner: the file in the store, the row added to <paramref name="db"/> (saved by the caller).</summary>
    internal static async Task<Upload> Keep(CleanUpload clean, Guid ownerId, ImageGenDbContext db, IImageStore store, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7(time.GetUtcNow());
        var upload = new Upload
        {
            Id = id,
            UserId = ownerId,
            StorageKey = ImageKeys.KeyFor(id, ImageEncoding.Extension(clean.ContentType)),
            ContentType = clean.ContentType,
            Width = clean.Width,
            Height = clean.Height,
            Bytes = clean.Bytes.Length,
            CreatedAt = time.GetUtcNow(),
        };
        await store.SaveAsync(upload.StorageKey, clean.Bytes, clean.ContentType, cancellationToken);
        db.Uploads.Add(upload);
        return upload;
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

    private static UploadDto ToDto(Upload u) => new(u.Id, u.ContentType, u.Width, u.Height, u.Bytes, u.CreatedAt);
}
