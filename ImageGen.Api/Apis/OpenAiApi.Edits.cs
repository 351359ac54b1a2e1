using System.Globalization;
using System.Text.Json;
using ImageGen.Api.Auth;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
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
        "user", "stream", "partial_images", "webhook", "webhook_events", "image", "image[]", "mask",
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
        if (files.Count == 0)
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "image", "Send the image to edit as a file in the field 'image' (or several in 'image[]').");
        }

        if (files.Count > MaxEditImages)
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "image", $"At most {MaxEditImages} images can be edited at once; {files.Count} were sent.");
        }

        if (ReadEditRequest(form) is not { } request)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, BadField(form), $"'{BadField(form)}' is not a valid value.");
        }

        if (Refusal(request) is { } refused)
        {
            return refused;
        }

        var userId = context.User.UserId();
        var kept = new List<(Upload Upload, byte[] Bytes)>();
        foreach (var (file, field) in files.Select(f => ((IFormFile?)f, "image")).Append((form.Files.GetFile("mask"), "mask")))
        {
            if (file is null)
            {
                continue;
            }

            var bytes = await UploadsApi.BytesAsync(file, cancellationToken);
            var (upload, bad) = await UploadsApi.KeepAsync(bytes, field, userId, services.Db, services.Store, limits, services.Time, cancellationToken);
            if (upload is null)
            {
                return bad!;
            }

            kept.Add((upload, bytes));
        }

        await services.Db.SaveChangesAsync(cancellationToken);
        var hasMask = form.Files.GetFile("mask") is not null;
        var edit = new EditInputs([.. kept.Take(files.Count).Select(k => k.Upload.Id)], hasMask ? kept[^1].Upload.Id : null);
        return await RunAsync(new OpenAiCall(request, edit, Fingerprint(request, kept.Select(k => k.Bytes))), context, services, cancellationToken);
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
