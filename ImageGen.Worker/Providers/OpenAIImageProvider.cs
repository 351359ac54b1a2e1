using System.Text.Json.Nodes;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ImageGen.Core.Catalog;
using ImageGen.Rendering;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Images;

namespace ImageGen.Worker.Providers;

/// <summary>
/// OpenAI Images through the official SDK. The SDK's own retries are off (ours is the only retry loop); its errors
/// become <see cref="ProviderException"/>s: moderation_blocked is moderated, 429 rate limited (with retry-after),
/// other 4xx rejected, 5xx and timeouts unavailable.
/// </summary>
internal sealed class OpenAIImageProvider(IOptions<ProviderOptions> options, IHttpClientFactory httpClients) : IImageProvider
{
    public const string HttpClientName = "openai";

    public ModelProvider Provider => ModelProvider.OpenAI;

    public async Task<ProviderResult> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var account = options.Value.OpenAI;
        var client = new ImageClient(request.Model.Id, new ApiKeyCredential(account.ApiKey ?? ""), new OpenAIClientOptions
        {
            Endpoint = account.Endpoint,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = account.RequestTimeout,
            Transport = new HttpClientPipelineTransport(httpClients.CreateClient(HttpClientName)),
        });

        await request.OnProgress(0.05, $"Sent to {request.Model.DisplayName}; waiting for the image...", cancellationToken);
        var started = Stopwatch.GetTimestamp();
        GeneratedImageCollection images;
        // OpenAI bills a request it received whether or not we wait for the answer: from the moment the body is sent, a
        // cancel is charged what the quest reserved.
        using var billing = BillingPoint.Arm(() => request.OnBillable(true, cancellationToken));
        try
        {
            if (IsStreamed(request))
            {
                return await StreamAsync(client, request, started, cancellationToken);
            }

            images = request.Inputs.Count > 0 ? await EditAsync(client, request, cancellationToken) : await GenerateAsync(client, request, cancellationToken);
        }
        catch (ClientResultException e)
        {
            // OpenAI answered with a refusal (429, 4xx, 5xx): that request is not billed.
            await request.OnBillable(false, CancellationToken.None);
            throw Classify(e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(ProviderFailure.Timeout, "OpenAI did not answer in time.", retryable: true, inner: e);
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException(ProviderFailure.Unavailable, "OpenAI could not be reached.", retryable: true, inner: e);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var result = new List<GeneratedImage>();
        foreach (var image in images)
        {
            var bytes = image.ImageBytes?.ToArray() ?? throw new ProviderException(ProviderFailure.Error, "OpenAI answered without image data.", retryable: false);
            result.Add(ProviderBodies.Image("OpenAI", bytes, options.Value.ImageLimits));
        }

        // Bill from the usage OpenAI reports where it reports it; the estimate stands otherwise.
#pragma warning disable OPENAI001 // Usage is marked experimental in the SDK.
        int? billed = images.Usage is { OutputTokenCount: > 0 } usage && request.Model.Cost.TokenPrices is { } prices
            ? prices.Billed(usage.InputTokenCount, usage.InputTokenDetails?.TextTokenCount, usage.InputTokenDetails?.ImageTokenCount, usage.OutputTokenCount)
            : null;
#pragma warning restore OPENAI001
        return new ProviderResult(result, billed, elapsed);
    }

    /// <summary>
    /// A one-image generation, streamed: OpenAI sends the partial images the quest asked for as the picture forms (each
    /// becomes the quest's preview frame; OpenAI bills 100 output tokens for each, which the estimate includes), then
    /// the image with its usage. Read through the SDK's pipeline, as server-sent events.
    /// </summary>
    private async Task<ProviderResult> StreamAsync(ImageClient client, ProviderRequest request, long started, CancellationToken cancellationToken)
    {
        var body = Body(request);
        var frames = request.Parameters.PartialImages ?? 0;
        var result = await client.GenerateImagesAsync(BinaryContent.Create(BinaryData.FromString(body.ToJsonString())),
            new RequestOptions { BufferResponse = false, CancellationToken = cancellationToken });
        await using var stream = result.GetRawResponse().ContentStream
            ?? throw new ProviderException(ProviderFailure.Error, "OpenAI answered the stream without a body.", retryable: false);
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            using var document = JsonDocument.Parse(item.Data);
            var data = document.RootElement;
            var type = data.TryGetProperty("type", out var t) ? t.GetString() : item.EventType;
            switch (type)
            {
                case "image_generation.partial_image":
                    var index = data.TryGetProperty("partial_image_index", out var i) ? i.GetInt32() : 0;
                    if (SketchRenderer.PreviewOf(Bytes(data), options.Value.ImageLimits) is { } frame)
                    {
                        request.OnPreview(frame);
                    }

                    await request.OnProgress(0.1 + (0.8 * (index + 1) / (frames + 1)),
                        $"{request.Model.DisplayName} is drawing... (partial image {index + 1} of {frames})", cancellationToken);
                    break;
                case "image_generation.completed":
                    var image = ProviderBodies.Image("OpenAI", Bytes(data), options.Value.ImageLimits);
                    int? billed = data.TryGetProperty("usage", out var usage) && request.Model.Cost.TokenPrices is { } prices ? Billed(usage, prices) : null;
                    return new ProviderResult([image], billed, Stopwatch.GetElapsedTime(started));
                case "error":
                    var code = data.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var c) ? c.GetString() : null;
                    throw code is "moderation_blocked" or "content_policy_violation"
                        ? new ProviderException(ProviderFailure.Moderated, "OpenAI's safety system refused this prompt.", retryable: false)
                        : new ProviderException(ProviderFailure.Error, $"OpenAI ended the stream with an error ({code ?? "no code"}).", retryable: false);
            }
        }

        throw new ProviderException(ProviderFailure.Unavailable, "OpenAI's stream ended before the image.", retryable: true);

        // The usage block of a completed event, as OpenAI's REST answer gives it.
        static int? Billed(JsonElement usage, OpenAIPrices prices)
        {
            if (Tokens(usage, "output_tokens") is not { } output || output <= 0)
            {
                return null;
            }

            var details = usage.TryGetProperty("input_tokens_details", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            return prices.Billed(Tokens(usage, "input_tokens") ?? 0, details.ValueKind == JsonValueKind.Object ? Tokens(details, "text_tokens") : null,
                details.ValueKind == JsonValueKind.Object ? Tokens(details, "image_tokens") : null, output);
        }

        static long? Tokens(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.TryGetInt64(out var tokens) ? tokens : null;

        static byte[] Bytes(JsonElement data) =>
            data.TryGetProperty("b64_json", out var b64) && b64.GetString() is { } text
                ? Convert.FromBase64String(text)
                : throw new ProviderException(ProviderFailure.Error, "OpenAI sent an image event without image data.", retryable: false);
    }

    /// <summary>Several new images in one answer: OpenAI's JSON <c>/v1/images/generations</c>, through the SDK's protocol call.</summary>
    private static async Task<GeneratedImageCollection> GenerateAsync(ImageClient client, ProviderRequest request, CancellationToken cancellationToken)
    {
        var result = await client.GenerateImagesAsync(BinaryContent.Create(BinaryData.FromString(Body(request).ToJsonString())),
            new RequestOptions { CancellationToken = cancellationToken });
        return ModelReaderWriter.Read<GeneratedImageCollection>(result.GetRawResponse().Content)
            ?? throw new ProviderException(ProviderFailure.Error, "OpenAI answered without images.", retryable: false);
    }

    /// <summary>
    /// An edit: OpenAI's multipart <c>/v1/images/edits</c> with every input image (<c>image[]</c> when there are several)
    /// and the mask, through the SDK's protocol call (its typed edit calls take one image).
    /// </summary>
    private static async Task<GeneratedImageCollection> EditAsync(ImageClient client, ProviderRequest request, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in Body(request))
        {
            form.Add(new StringContent(value!.ToString()), name);
        }

        var field = request.Inputs.Count > 1 ? "image[]" : "image";
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            form.Add(File(request.Inputs[i]), field, $"image-{i + 1}.{ImageEncoding.Extension(request.Inputs[i].ContentType)}");
        }

        if (request.Mask is { } mask)
        {
            form.Add(File(mask), "mask", "mask.png");
        }

        var body = BinaryData.FromBytes(await form.ReadAsByteArrayAsync(cancellationToken));
        var result = await client.GenerateImageEditsAsync(BinaryContent.Create(body), form.Headers.ContentType!.ToString(), new RequestOptions { CancellationToken = cancellationToken });
        return ModelReaderWriter.Read<GeneratedImageCollection>(result.GetRawResponse().Content)
            ?? throw new ProviderException(ProviderFailure.Error, "OpenAI answered the edit without images.", retryable: false);

        static ByteArrayContent File(InputImage image)
        {
            var content = new ByteArrayContent(image.Bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(image.ContentType);
            return content;
        }
    }

    /// <summary>What the debug view shows was sent: the request's fields, the input files counted.</summary>
    public JsonObject Describe(ProviderRequest request)
    {
        var body = Body(request);
        body.Remove("prompt");
        body["images"] = request.Inputs.Count > 0 ? request.Inputs.Count : null;
        body["mask"] = request.Mask is null ? null : true;
        return body;
    }

    /// <summary>A one-image generation is streamed; several images, or an edit, come in one answer.</summary>
    private static bool IsStreamed(ProviderRequest request) => request.Inputs.Count == 0 && request.Parameters.N == 1;

    /// <summary>
    /// The one place a quest's parameters become gpt-image's request fields, for every call (streamed, several images,
    /// edit; the edit sends them as form fields). Options the quest left at the model's default are not sent.
    /// </summary>
    internal static JsonObject Body(ProviderRequest request)
    {
        var p = request.Parameters;
        var body = new JsonObject
        {
            ["model"] = request.Model.Id,
            ["prompt"] = request.Prompt,
            ["n"] = p.N,
            ["size"] = p.Size is null or "auto" ? "auto" : $"{p.Width ?? 1024}x{p.Height ?? 1024}",
            ["quality"] = p.Quality ?? "auto",
            ["output_format"] = p.OutputFormat ?? "png",
        };
        void Add(string name, JsonNode? value)
        {
            if (value is not null)
            {
                body[name] = value;
            }
        }

        Add("background", p.Background);
        Add("moderation", p.Moderation);
        Add("output_compression", p.OutputCompression);
        Add("input_fidelity", request.Inputs.Count > 0 ? p.InputFidelity : null);
        if (IsStreamed(request))
        {
            body["stream"] = true;
            body["partial_images"] = p.PartialImages ?? 0;
        }

        return body;
    }

    private static ProviderException Classify(ClientResultException e)
    {
        var status = e.Status;
        var response = e.GetRawResponse();
        var code = ErrorCode(response);
        if (code is "moderation_blocked" or "content_policy_violation")
        {
            return new ProviderException(ProviderFailure.Moderated, "OpenAI's safety system refused this prompt.", retryable: false, statusCode: status, inner: e);
        }

        if (code == "insufficient_quota")
        {
            return new ProviderException(ProviderFailure.AccountExhausted, "The OpenAI account has no quota left (insufficient_quota).", retryable: false, statusCode: status, inner: e);
        }

        return status switch
        {
            429 => new ProviderException(ProviderFailure.RateLimited, "OpenAI is rate limiting this account.", retryable: true, RetryAfter(response), status, e),
            408 or 409 or >= 500 => new ProviderException(ProviderFailure.Unavailable, $"OpenAI answered {status}.", retryable: true, RetryAfter(response), status, e),
            401 or 403 => new ProviderException(ProviderFailure.Rejected, "OpenAI refused the API key.", retryable: false, statusCode: status, inner: e),
            0 => new ProviderException(ProviderFailure.Unavailable, "OpenAI could not be reached.", retryable: true, inner: e),
            _ => new ProviderException(ProviderFailure.Rejected, $"OpenAI refused the request ({code ?? status.ToString(CultureInfo.InvariantCulture)}).", retryable: false, statusCode: status, inner: e),
        };
    }

    private static string? ErrorCode(PipelineResponse? response)
    {
        try
        {
            using var document = JsonDocument.Parse(response?.Content.ToString() ?? "{}");
            return document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                ? code.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>OpenAI sends retry-after-ms and retry-after; the finer one wins.</summary>
    private static TimeSpan? RetryAfter(PipelineResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return response.Headers.TryGetValue("retry-after", out var seconds) && double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
            ? TimeSpan.FromSeconds(s)
            : null;
    }
}
