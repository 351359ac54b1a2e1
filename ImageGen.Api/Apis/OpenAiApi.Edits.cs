using System.Globalization;
using System.Text.Json;
using ImageGen.Api.Auth;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Data.Credits;
using ImageGen.Rendering;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Apis;

/// <summary>OpenAI's <c>/v1/images/edits</c>: multipart, with the images (and mask) as files.</summary>
internal static partial class OpenAiApi
{
    /// <summary>OpenAI takes up to 16 images to edit.</summary>
    public const int MaxEditImages = 16;

    private static readonly string[] EditFields =
    [
        "model", "prompt", "n", "size", "quality", "background", "output_format", "output_compression", "moderation", "response_format",
        "user", "stream", "partial_images", "input_fidelity", "webhook", "webhook_events", "image", "image[]", "mask",
    ];

    /// <summary>
    /// An edit as OpenAI's SDKs send it. The files are judged and kept as the caller's uploads (so the quest names what
    /// it was made from), then the call runs as any other: one quest, waited for or streamed (<c>image_edit.*</c> events).
    /// The whole body is at most twice the upload limit (50 MB by default).
    /// </summary>
    public static async Task<Results<Ok<OpenAiImagesResponse>, ServerSentEventsResult<OpenAiImageStreamEvent>, ProblemHttpResult>> Edit(
        HttpContext context, [AsParameters] OpenAiServices services, IOptions<UploadOptions> uploads, CancellationToken cancellationToken)
    {
        var limits = uploads.Value;
        var (form, unreadable) = await UploadsApi.ReadFormAsync(context, limits.MaxBytes * 2, limits, "image", cancellationToken);
        if (form is null)
        {
            return unreadable!;
        }

        var files = form.Files.GetFiles("image").Concat(form.Files.GetFiles("image[]")).ToList();
        if (CountProblem(files.Count) is { } badCount)
        {
            return badCount;
        }

        if (ReadEditRequest(form) is not { } request)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, BadField(form), $"'{BadField(form)}' is not a valid value.");
        }

        // Everything cheap first, before any file is decoded: the fields, the request as it will be submitted, the balance.
        var userId = context.User.UserId();
        var mask = form.Files.GetFile("mask");
        if ((Refusal(request) ?? await PrecheckAsync(request, files.Count, mask is not null, userId, services, cancellationToken)) is { } early)
        {
            return early;
        }

        var named = files.Select(f => (File: f, Field: "image")).ToList();
        if (mask is not null)
        {
            named.Add((mask, "mask"));
        }

        var (kept, sent, bad) = await KeepAllAsync(named, userId, services, limits, cancellationToken);
        if (bad is not null)
        {
            return bad;
        }

        var edit = new EditInputs([.. kept.Take(files.Count).Select(k => k.Id)], mask is not null ? kept[^1].Id : null);
        return await RunAsync(new OpenAiCall(request, edit, Fingerprint(request, sent)), context, services, cancellationToken);
    }

    private static ProblemHttpResult? CountProblem(int files) => files switch
    {
        0 => ApiProblems.BadRequest(ErrorCodes.Required, "image", "Send the image to edit as a file in the field 'image' (or several in 'image[]')."),
        > MaxEditImages => ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "image", $"At most {MaxEditImages} images can be edited at once; {files} were sent."),
        _ => null,
    };

    /// <summary>
    /// Judges every file first, and stores them (as the caller's uploads) only when all passed: a refused request keeps
    /// nothing. The uploads in order, and each file's bytes as sent (for the call's fingerprint).
    /// </summary>
    private static async Task<(List<Upload> Kept, List<byte[]> Sent, ProblemHttpResult? Problem)> KeepAllAsync(
        IReadOnlyList<(IFormFile File, string Field)> files, Guid userId, OpenAiServices services, UploadOptions limits, CancellationToken cancellationToken)
    {
        var cleaned = new List<CleanUpload>();
        var sent = new List<byte[]>();
        foreach (var (file, field) in files)
        {
            var bytes = await UploadsApi.BytesAsync(file, cancellationToken);
            var (clean, bad) = await UploadsApi.CleanAsync(bytes, field, userId, limits, cancellationToken);
            if (clean is null)
            {
                return ([], [], bad);
            }

            cleaned.Add(clean);
            sent.Add(bytes);
        }

        var (kept, overQuota) = await UploadsApi.KeepAsync(cleaned, userId,
            new UploadsApi.UploadServices(services.Db, services.Store, Microsoft.Extensions.Options.Options.Create(limits), services.Time), cancellationToken);
        return kept is null ? ([], [], overQuota) : (kept, sent, null);
    }

    /// <summary>
    /// The refusals an edit can get without decoding a file: the request checked as it will be submitted (model, prompt,
    /// sizes, how many images the model takes), and a balance that cannot cover its price.
    /// </summary>
    private static async Task<ProblemHttpResult?> PrecheckAsync(OpenAiImageRequest request, int images, bool hasMask, Guid userId, OpenAiServices services,
        CancellationToken cancellationToken)
    {
        var native = ToQuestRequest(request, services.Catalog, out var sizeError) with
        {
            Images = [.. Enumerable.Range(0, images).Select(_ => Guid.NewGuid())],
            Mask = hasMask ? Guid.NewGuid() : null,
        };
        if (sizeError is not null)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "size", sizeError);
        }

        var errors = QuestValidator.Validate(services.Catalog, native, out var valid);
        if (valid is null)
        {
            var error = errors[0];
            return ApiProblems.BadRequest(error.Code, OpenAiName(error.Field), error.Message);
        }

        var balance = await services.Db.BalanceAsync(userId, cancellationToken);
        return balance < valid.Cost
            ? ApiProblems.Status(StatusCodes.Status429TooManyRequests, ErrorCodes.InsufficientCredits,
                $"This edit costs at least {valid.Cost} credits and your balance is {balance}. Add credits and try again.")
            : null;
    }

    /// <summary>The form's fields as OpenAI's request (unknown ones kept, to be refused by name); null when a number or flag does not parse.</summary>
    private static OpenAiImageRequest? ReadEditRequest(IFormCollection form)
    {
        string? Text(string name) => form.TryGetValue(name, out var value) ? value.ToString() : null;
        if (!TryInt(Text("n"), out var n) || !TryInt(Text("output_compression"), out var compression) || !TryInt(Text("partial_images"), out var partials)
            || !TryBool(Text("stream"), out var stream))
        {
            return null;
        }

        var unknown = form.Keys.Concat(form.Files.Select(f => f.Name)).Where(k => !EditFields.Contains(k, StringComparer.Ordinal)).Distinct()
            .ToDictionary(k => k, _ => default(JsonElement));
        return new OpenAiImageRequest
        {
            Model = Text("model"),
            Prompt = Text("prompt"),
            N = n,
            Size = Text("size"),
            Quality = Text("quality"),
            Background = Text("background"),
            OutputFormat = Text("output_format"),
            OutputCompression = compression,
            Moderation = Text("moderation"),
            InputFidelity = Text("input_fidelity"),
            ResponseFormat = Text("response_format"),
            User = Text("user"),
            Stream = stream,
            PartialImages = partials,
            Webhook = Text("webhook"),
            WebhookEvents = form.TryGetValue("webhook_events", out var events) ? [.. events.Select(e => e ?? "")] : null,
            Unknown = unknown.Count > 0 ? unknown : null,
        };
    }

    private static string BadField(IFormCollection form) =>
        new[] { "n", "output_compression", "partial_images" }.FirstOrDefault(f => form.TryGetValue(f, out var v) && !TryInt(v.ToString(), out _)) ?? "stream";

    private static bool TryInt(string? text, out int? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return true;
        }

        return false;
    }

    private static bool TryBool(string? text, out bool? value)
    {
        value = text is null ? null : bool.TryParse(text, out var parsed) ? parsed : null;
        return text is null || value is not null;
    }
}
