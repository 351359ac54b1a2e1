using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageGen.Rendering;

namespace ImageGen.ProviderSimulator;

/// <summary>
/// OpenAI's <c>POST /v1/images/generations</c> and <c>/v1/images/edits</c> for gpt-image models: bearer auth, OpenAI's validation and error shape
/// (<c>{"error":{"message","type","param","code"}}</c>), base64 images, and token usage.
/// </summary>
internal static partial class OpenAIApi
{
    /// <summary>Models with the three fixed sizes (and auto).</summary>
    private static readonly string[] FixedSizeModels = ["gpt-image-1-mini", "gpt-image-1.5"];

    /// <summary>
    /// The gpt-image-2 family: any WIDTHxHEIGHT with both edges multiples of 16, the long edge at most 3840, the shape
    /// within 1:3 and 3:1, the area from 655,360 to 8,294,400 pixels. Inputs are read at high fidelity; no
    /// <c>input_fidelity</c>.
    /// </summary>
    private static readonly string[] FreeSizeModels =
    [
        "gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare-2026-09-08",
        "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.6-flare", "gpt-image-2.6-sunburst", "chatgpt-image-latest",
    ];

    private static readonly string[] Models = [.. FixedSizeModels, .. FreeSizeModels];
    private static readonly string[] Backgrounds = ["auto", "opaque", "transparent"];
    private static readonly string[] Moderations = ["auto", "low"];
    private static readonly string[] Fidelities = ["low", "high"];

    /// <summary>Shut down by OpenAI (its model list: gpt-image-1 on 2026-10-23, DALL-E 2 and 3 on 2026-05-12).</summary>
    private static readonly string[] ShutDown = ["gpt-image-1", "dall-e-2", "dall-e-3"];
    private static readonly string[] Sizes = ["1024x1024", "1536x1024", "1024x1536", "auto"];
    private static readonly string[] Qualities = ["low", "medium", "high", "auto"];
    private static readonly string[] Formats = ["png", "jpeg", "webp"];
    private static readonly Dictionary<(string, string), int> OutputTokens = new()
    {
        [("low", "1024x1024")] = 272, [("low", "1024x1536")] = 408, [("low", "1536x1024")] = 400,
        [("medium", "1024x1024")] = 1056, [("medium", "1024x1536")] = 1584, [("medium", "1536x1024")] = 1568,
        [("high", "1024x1024")] = 4160, [("high", "1024x1536")] = 6240, [("high", "1536x1024")] = 6208,
    };

    public static void MapOpenAI(this WebApplication app)
    {
        app.MapPost("/v1/images/generations", GenerateAsync);
        app.MapPost("/v1/images/edits", EditAsync).DisableAntiforgery();
        app.MapGet("/v1/models", ListModels);
    }

    /// <summary>OpenAI's <c>GET /v1/models</c>: free to call, so health probes use it.</summary>
    private static IResult ListModels(HttpContext context, FaultProfiles faults, SimulatorStats stats, TimeProvider time)
    {
        stats.Count("openai.models");
        if (context.Request.Headers.Authorization.ToString() is not { Length: > 7 } auth || !auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Error(401, "You didn't provide an API key.", "invalid_request_error", null, null);
        }

        if (faults.Get(FaultProfiles.OpenAI).Profile == FaultProfile.Outage)
        {
            return Error(503, "The server is overloaded or not ready yet.", "server_error", null, null);
        }

        var created = time.GetUtcNow().ToUnixTimeSeconds();
        return Results.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. Models.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["object"] = "model", ["created"] = created, ["owned_by"] = "openai" })]),
        });
    }

    private static async Task<IResult> GenerateAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, TimeProvider time)
    {
        stats.Count("openai.generations");
        if (await GateAsync(context, faults) is { } refused)
        {
            return refused;
        }

        JsonObject body;
        try
        {
            body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))?.AsObject()
                ?? throw new JsonException();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Error(400, "We could not parse the JSON body of your request.", "invalid_request_error", null, null);
        }

        foreach (var unsupported in new[] { "response_format", "style" })
        {
            if (body.ContainsKey(unsupported))
            {
                return Error(400, $"Unknown parameter: '{unsupported}'.", "invalid_request_error", unsupported, "unknown_parameter");
            }
        }

        if (Check(name => body[name]?.ToString(), faults, out var ask) is { } invalid)
        {
            return invalid;
        }

        if (body["stream"]?.GetValueKind() == JsonValueKind.True)
        {
            var partials = (int?)body["partial_images"] ?? 0;
            if (partials is < 0 or > 3 || ask.N != 1)
            {
                return Error(400, "Streaming takes n = 1 and 'partial_images' from 0 to 3.", "invalid_request_error", partials is < 0 or > 3 ? "partial_images" : "n", "invalid_value");
            }

            await StreamAsync(context, ask, partials, time);
            return Results.Empty;
        }

        return Answer(ask, time, null, null);
    }

    /// <summary>
    /// A streamed generation as OpenAI sends it: <c>image_generation.partial_image</c> events (the picture part way, at
    /// full size, in the asked format), then <c>image_generation.completed</c> with the image and its usage. Each partial
    /// adds 100 output tokens, as OpenAI bills them.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, ImageAsk ask, int partials, TimeProvider time)
    {
        var (size, quality, width, height) = Actual(ask);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        async Task SendAsync(string type, JsonObject data)
        {
            data["type"] = type;
            await response.WriteAsync($"event: {type}\ndata: {data.ToJsonString()}\n\n", context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
        }

        for (var i = 0; i < partials; i++)
        {
            await Task.Delay(60, context.RequestAborted);
            var steps = (i + 1) * SketchRenderer.StepCount / (partials + 1);
            var partial = SketchRenderer.Render(new SketchRequest(ask.Prompt, 0, width, height), steps).Png;
            await SendAsync("image_generation.partial_image", new JsonObject
            {
                ["b64_json"] = Convert.ToBase64String(Encode(partial, ask)),
                ["created_at"] = time.GetUtcNow().ToUnixTimeSeconds(),
                ["size"] = size, ["quality"] = quality, ["background"] = ask.Background, ["output_format"] = ask.Format,
                ["partial_image_index"] = i,
            });
        }

        var png = SketchRenderer.Render(new SketchRequest(ask.Prompt, 0, width, height)).Png;
        var textTokens = Math.Max(1, ask.Prompt.Length / 4);
        var outputTokens = TokensFor(quality, size, width, height) + (100 * partials);
        await SendAsync("image_generation.completed", new JsonObject
        {
            ["b64_json"] = Convert.ToBase64String(Encode(png, ask)),
            ["created_at"] = time.GetUtcNow().ToUnixTimeSeconds(),
            ["size"] = size, ["quality"] = quality, ["background"] = ask.Background, ["output_format"] = ask.Format,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = textTokens,
                ["input_tokens_details"] = new JsonObject { ["image_tokens"] = 0, ["text_tokens"] = textTokens },
                ["output_tokens"] = outputTokens,
                ["total_tokens"] = textTokens + outputTokens,
            },
        });
    }

    /// <summary>Output tokens of one image: the published table for its sizes, by area at the same rate for the others.</summary>
    private static int TokensFor(string quality, string size, int width, int height) =>
        OutputTokens.TryGetValue((quality, size), out var listed) ? listed
        : (int)Math.Ceiling(OutputTokens[(quality, "1024x1024")] * (double)width * height / (1024 * 1024));

    /// <summary>The encoded image as asked: its format, and a transparent background as real alpha.</summary>
    private static byte[] Encode(byte[] png, ImageAsk ask) =>
        ImageEncoding.Convert(ask.Background == "transparent" ? ImageEncoding.Cutout(png) : png, ask.Format);

    private static (string Size, string Quality, int Width, int Height) Actual(ImageAsk ask)
    {
        var size = ask.Size == "auto" ? "1024x1024" : ask.Size;
        var parts = size.Split('x');
        return (size, ask.Quality == "auto" ? "medium" : ask.Quality, int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// OpenAI's <c>POST /v1/images/edits</c> (multipart): 1 to 16 images (<c>image</c>, or <c>image[]</c> for several),
    /// each PNG, JPEG or WebP under 50 MB; an optional <c>mask</c>, a PNG with an alpha channel of the first image's
    /// size. The first image is repainted where the mask is transparent.
    /// </summary>
    private static async Task<IResult> EditAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, TimeProvider time)
    {
        stats.Count("openai.edits");
        if (await GateAsync(context, faults) is { } refused)
        {
            return refused;
        }

        if (!context.Request.HasFormContentType)
        {
            return Error(400, "Edits take multipart/form-data.", "invalid_request_error", null, null);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var files = form.Files.GetFiles("image").Concat(form.Files.GetFiles("image[]")).ToList();
        if (files.Count is < 1 or > 16)
        {
            return Error(400, $"Invalid 'image': expected 1 to 16 images, got {files.Count}.", "invalid_request_error", "image", files.Count == 0 ? "missing_required_parameter" : "invalid_value");
        }

        var images = new List<(byte[] Bytes, (int Width, int Height, string ContentType) Info)>();
        foreach (var file in files)
        {
            var bytes = await ReadAsync(file);
            if (file.Length > 50L * 1024 * 1024 || ImageEncoding.Inspect(bytes) is not { } info)
            {
                return Error(400, "Invalid image file or mode for image 1, please check your image file.", "invalid_request_error", "image", "invalid_image_file");
            }

            images.Add((bytes, info));
        }

        byte[]? mask = null;
        if (form.Files.GetFile("mask") is { } maskFile)
        {
            mask = await ReadAsync(maskFile);
            if (ImageEncoding.Inspect(mask) is not { ContentType: "image/png" } maskInfo || !ImageEncoding.HasAlpha(mask))
            {
                return Error(400, "Invalid mask image format - mask image missing alpha channel", "invalid_request_error", "mask", "invalid_mask_image_format");
            }

            if ((maskInfo.Width, maskInfo.Height) != (images[0].Info.Width, images[0].Info.Height))
            {
                return Error(400, "Invalid mask image size - mask image dimensions must match the image.", "invalid_request_error", "mask", "invalid_mask_image_size");
            }
        }

        // Input images cost input tokens, as OpenAI bills them; a fixed 65 per image stands in for its tile count.
        return Check(name => form[name].FirstOrDefault(), faults, out var ask) ?? Answer(ask, time, images[0].Bytes, mask, imageTokens: 65 * images.Count);
    }

    private static async Task<byte[]> ReadAsync(IFormFile file)
    {
        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    /// <summary>What every image call goes through first: the bearer key, then the fault profile set for OpenAI.</summary>
    private static async Task<IResult?> GateAsync(HttpContext context, FaultProfiles faults)
    {
        var fault = faults.Get(FaultProfiles.OpenAI);
        if (context.Request.Headers.Authorization.ToString() is not { Length: > 7 } auth || !auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Error(401, "You didn't provide an API key.", "invalid_request_error", null, null);
        }

        switch (fault.Profile)
        {
            case FaultProfile.RateLimited:
                var headers = context.Response.Headers;
                headers["retry-after"] = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                headers["retry-after-ms"] = (fault.RetryAfterSeconds * 1000).ToString(CultureInfo.InvariantCulture);
                headers["x-ratelimit-limit-requests"] = "5";
                headers["x-ratelimit-remaining-requests"] = "0";
                headers["x-ratelimit-reset-requests"] = $"{fault.RetryAfterSeconds}s";
                return Error(429, "Rate limit reached for images per minute. Please try again later.", "requests", null, "rate_limit_exceeded");
            case FaultProfile.OutOfCredits:
                return Error(429, "You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", null, "insufficient_quota");
            case FaultProfile.Flaky when faults.FailsNow(FaultProfiles.OpenAI):
                return Error(500, "The server had an error while processing your request. Sorry about that!", "server_error", null, null);
            case FaultProfile.Outage:
                return Error(503, "The engine is currently overloaded, please try again later.", "server_error", null, null);
            case FaultProfile.Hang:
                await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
                break;
            case FaultProfile.Slow:
                await faults.PaceAsync(FaultProfiles.OpenAI, TimeSpan.Zero, 1, context.RequestAborted);
                break;
        }

        return null;
    }

    /// <summary>The images (drawn by the local renderer, over the source for an edit) with OpenAI's answer around them.</summary>
    private static IResult Answer(ImageAsk ask, TimeProvider time, byte[]? source, byte[]? mask, int imageTokens = 0)
    {
        var (actualSize, actualQuality, width, height) = Actual(ask);
        var data = new JsonArray();
        for (var i = 0; i < ask.N; i++)
        {
            var png = SketchRenderer.Render(new SketchRequest(ask.Prompt, i, width, height, source, mask)).Png;
            data.Add(new JsonObject { ["b64_json"] = Convert.ToBase64String(Encode(png, ask)) });
        }

        var outputTokens = TokensFor(actualQuality, actualSize, width, height) * ask.N;
        var textTokens = Math.Max(1, ask.Prompt.Length / 4);
        return Results.Json(new JsonObject
        {
            ["created"] = time.GetUtcNow().ToUnixTimeSeconds(),
            ["data"] = data,
            ["background"] = ask.Background,
            ["output_format"] = ask.Format,
            ["quality"] = actualQuality,
            ["size"] = actualSize,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = textTokens + imageTokens,
                ["input_tokens_details"] = new JsonObject { ["image_tokens"] = imageTokens, ["text_tokens"] = textTokens },
                ["output_tokens"] = outputTokens,
                ["total_tokens"] = textTokens + imageTokens + outputTokens,
            },
        });
    }

    private static IResult Error(int status, string message, string type, string? param, string? code) =>
        Results.Json(new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
        }, statusCode: status);
}
