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

        var generation = Map(request);
        await request.OnProgress(0.05, $"Sent to {request.Model.DisplayName}; waiting for the image...", cancellationToken);
        var started = Stopwatch.GetTimestamp();
        GeneratedImageCollection images;
        // OpenAI bills a request it received whether or not we wait for the answer: from the moment the body is sent, a
        // cancel is charged what the quest reserved.
        using var billing = BillingPoint.Arm(() => request.OnBillable(true, cancellationToken));
        try
        {
            if (request.Inputs.Count == 0 && request.Parameters.N == 1)
            {
                return await StreamAsync(client, request, started, cancellationToken);
            }

            images = request.Inputs.Count > 0
                ? await EditAsync(client, request, cancellationToken)
                : (await client.GenerateImagesAsync(request.Prompt, request.Parameters.N, generation, cancellationToken)).Value;
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
    /// A one-image generation, streamed: OpenAI sends <see cref="OpenAIImageTokens.PreviewFrames"/> partial image(s) as
    /// the picture forms (each becomes the quest's preview frame; OpenAI bills 100 output tokens for each, which the
    /// estimate includes), then the image with its usage. Read through the SDK's pipeline, as server-sent events.
    /// </summary>
    private async Task<ProviderResult> StreamAsync(ImageClient client, ProviderRequest request, long started, CancellationToken cancellationToken)
    {
        var p = request.Parameters;
        var body = new JsonObject
        {
            ["model"] = request.Model.Id,
            ["prompt"] = request.Prompt,
            ["n"] = 1,
            ["size"] = p.Size is null or "auto" ? "auto" : $"{p.Width ?? 1024}x{p.Height ?? 1024}",
            ["quality"] = p.Quality ?? "auto",
            ["output_format"] = p.OutputFormat ?? "png",
            ["stream"] = true,
            ["partial_images"] = OpenAIImageTokens.PreviewFrames,
        };
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

                    await request.OnProgress(0.1 + (0.8 * (index + 1) / (OpenAIImageTokens.PreviewFrames + 1)),
                        $"{request.Model.DisplayName} is drawing... (partial image {index + 1} of {OpenAIImageTokens.PreviewFrames})", cancellationToken);
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

    /// <summary>
    /// An edit: OpenAI's multipart <c>/v1/images/edits</c> with every input image (<c>image[]</c> when there are several)
    /// and the mask, through the SDK's protocol call (its typed edit calls take one image).
    /// </summary>
    private static async Task<GeneratedImageCollection> EditAsync(ImageClient client, ProviderRequest request, CancellationToken cancellationToken)
    {
        var p = request.Parameters;
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(request.Model.Id), "model");
        form.Add(new StringContent(request.Prompt), "prompt");
        form.Add(new StringContent(p.N.ToString(CultureInfo.InvariantCulture)), "n");
        form.Add(new StringContent(p.Size is null or "auto" ? "auto" : $"{p.Width ?? 1024}x{p.Height ?? 1024}"), "size");
        form.Add(new StringContent(p.Quality ?? "auto"), "quality");
        form.Add(new StringContent(p.OutputFormat ?? "png"), "output_format");
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

    public JsonObject Describe(ProviderRequest request)
    {
        var p = request.Parameters;
        return new JsonObject
        {
            ["model"] = request.Model.Id,
            ["images"] = request.Inputs.Count > 0 ? request.Inputs.Count : null,
            ["mask"] = request.Mask is null ? null : true,
            ["n"] = p.N,
            ["size"] = p.Size is null or "auto" ? "auto" : $"{p.Width ?? 1024}x{p.Height ?? 1024}",
            ["quality"] = p.Quality ?? "auto",
            ["output_format"] = p.OutputFormat ?? "png",
            ["stream"] = request.Inputs.Count == 0 && p.N == 1 ? true : null,
            ["partial_images"] = request.Inputs.Count == 0 && p.N == 1 ? OpenAIImageTokens.PreviewFrames : null,
        };
    }

    /// <summary>The one place common parameters become gpt-image ones (quality aliases are already resolved by validation).</summary>
    internal static ImageGenerationOptions Map(ProviderRequest request)
    {
        var p = request.Parameters;
#pragma warning disable OPENAI001 // gpt-image quality levels are marked experimental in the SDK.
        return new ImageGenerationOptions
        {
            Size = p.Size is null or "auto" ? GeneratedImageSize.Auto : new GeneratedImageSize(p.Width ?? 1024, p.Height ?? 1024),
            Quality = p.Quality switch
            {
                "low" => GeneratedImageQuality.LowQuality,
                "medium" => GeneratedImageQuality.MediumQuality,
                // Not GeneratedImageQuality.High: that sends dall-e's "hd", which gpt-image refuses.
                "high" => GeneratedImageQuality.HighQuality,
                _ => GeneratedImageQuality.Auto,
            },
            OutputFileFormat = p.OutputFormat switch
            {
                "jpeg" => GeneratedImageFileFormat.Jpeg,
                "webp" => GeneratedImageFileFormat.Webp,
                _ => GeneratedImageFileFormat.Png,
            },
        };
#pragma warning restore OPENAI001
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
