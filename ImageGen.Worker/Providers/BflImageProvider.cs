using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageGen.Core.Catalog;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Black Forest Labs: submit <c>POST /v1/{model}</c> with <c>x-key</c>, poll the returned <c>polling_url</c> with backoff,
/// relay its progress, and download <c>result.sample</c> at once (it expires in about ten minutes). A submit that
/// failed with 5xx or timed out is never sent again: the job may exist, and be billed. URLs in BFL's answers are checked
/// by <see cref="BflUrlPolicy"/> before they are fetched; no redirect is followed; bodies are read up to a cap, and an
/// image's size is checked from its header before anything decodes it.
/// </summary>
internal sealed partial class BflImageProvider(HttpClient http, IOptions<ProviderOptions> options) : IImageProvider
{
    /// <summary>A poll answer is a few hundred bytes of JSON; more is not a poll answer.</summary>
    private const long MaxPollBytes = 1 << 20;

    private BflUrlPolicy Urls => new(options.Value.Bfl);

    public const string HttpClientName = "bfl";

    /// <summary>Polls that may fail in a row (5xx, timeouts) before the job is given up.</summary>
    private const int MaxPollFailures = 10;

    public ModelProvider Provider => ModelProvider.BlackForestLabs;

    public async Task<ProviderResult> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        int? cost = null;
        string? accepted = null;
        Uri pollingUrl;
        if (request.ResumePollingUrl is { } resume)
        {
            pollingUrl = PollingUrl(resume);
        }
        else
        {
            (accepted, var answered, cost) = await SubmitAsync(request, cancellationToken);
            pollingUrl = PollingUrl(answered);
        }

        Uri sampleUrl;
        try
        {
            if (accepted is not null)
            {
                await request.OnJobAccepted(accepted, pollingUrl.AbsoluteUri, cost, cancellationToken);
            }

            sampleUrl = await PollAsync(request, pollingUrl, cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            // BFL has no cancel: the job runs on and holds one of the account's active tasks until it ends there.
            var settings = options.Value;
            throw new ProviderJobLeftRunning(ProviderJobLeftRunning.WatchAsync(
                async watch => (string?)(await LookAsync(pollingUrl, watch))?["status"] == "Pending",
                settings.PollMaxInterval, settings.LeftRunningWatch, MaxPollFailures), e);
        }

        var bytes = await DownloadAsync(sampleUrl, cancellationToken);
        return new ProviderResult([ProviderBodies.Image("BFL", bytes, options.Value.ImageLimits)], cost, Stopwatch.GetElapsedTime(started));
    }

    public JsonObject Describe(ProviderRequest request)
    {
        var body = Map(request);
        body.Remove("prompt");
        body["endpoint"] = request.Model.Id;
        // The timeline names each input, never its bytes.
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            var input = request.Inputs[i];
            body[request.Model.TakesMask && i == 0 ? "image" : InputField(i)] = $"{input.ContentType}, {input.Width}x{input.Height}, {input.Bytes.Length} bytes (base64)";
        }

        if (body.ContainsKey("mask") && request.Mask is { } mask)
        {
            body["mask"] = $"black and white PNG, {mask.Width}x{mask.Height} (white: repaint)";
        }

        return body;
    }

    /// <summary>The one place common parameters become BFL's.</summary>
    internal static JsonObject Map(ProviderRequest request)
    {
        var p = request.Parameters;
        var body = new JsonObject { ["prompt"] = request.Prompt };
        if (p.AspectRatio is { } ratio)
        {
            body["aspect_ratio"] = ratio;
        }
        else if (p.Width is not null)
        {
            body["width"] = p.Width;
            body["height"] = p.Height;
        }

        if (p.Seed is { } seed)
        {
            body["seed"] = seed;
        }

        body["safety_tolerance"] = p.SafetyTolerance;
        body["output_format"] = p.OutputFormat;
        body["prompt_upsampling"] = p.PromptUpsampling ?? false;
        if (p.Raw is { } raw)
        {
            body["raw"] = raw;
        }

        // Fill repaints its image where the mask is white (BFL's convention; ours marks that part transparent).
        if (request.Model.TakesMask && request.Inputs.Count > 0)
        {
            body["image"] = Convert.ToBase64String(request.Inputs[0].Bytes);
            if (request.Mask is { } mask)
            {
                body["mask"] = Convert.ToBase64String(Rendering.ImageEncoding.FillMask(mask.Bytes));
            }

            return body;
        }

        // Kontext edits the image it is given; FLUX.2 draws from each reference: inline, as base64, in BFL's numbered fields.
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            body[InputField(i)] = Convert.ToBase64String(request.Inputs[i].Bytes);
        }

        return body;
    }

    /// <summary>BFL's name of the n-th input image: <c>input_image</c>, then <c>input_image_2</c>, <c>input_image_3</c>, ...</summary>
    private static string InputField(int index) => index == 0 ? "input_image" : $"input_image_{index + 1}";

    private async Task<(string Id, string PollingUrl, int? Cost)> SubmitAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var account = options.Value.Bfl;
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(account.Endpoint!, $"/v1/{request.Model.Id}"))
        {
            Content = JsonContent.Create(Map(request)),
        };
        message.Headers.Add("x-key", account.ApiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, cancellationToken);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            // Nothing reached BFL, so nothing was created: safe to try again.
            throw new ProviderException(ProviderFailure.Unavailable, "BFL could not be reached.", retryable: true, inner: e);
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException(ProviderFailure.Unavailable, "The connection to BFL failed during the submit; it is not sent again, as the job may exist.", retryable: false, inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(ProviderFailure.Timeout, "BFL did not answer the submit in time; it is not sent again, as the job may exist.", retryable: false, inner: e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
                var id = (string?)body?["id"];
                var pollingUrl = (string?)body?["polling_url"];
                if (id is null || pollingUrl is null)
                {
                    throw new ProviderException(ProviderFailure.Error, "BFL accepted the job without an id or polling URL.", retryable: false);
                }

                // A cost that is not a sane number is no cost at all (the reservation stands).
                return (id, pollingUrl, body?["cost"] is JsonValue c && c.TryGetValue<double>(out var credits) && credits is >= 0 and < int.MaxValue
                    ? (int)Math.Ceiling(credits) : null);
            }

            var detail = await DetailAsync(response, cancellationToken);
            throw status switch
            {
                429 => new ProviderException(ProviderFailure.RateLimited, "BFL is rate limiting this account (too many jobs in flight).", retryable: true, RetryAfter(response), status),
                400 or 422 => new ProviderException(ProviderFailure.Rejected, $"BFL refused the parameters: {detail}", retryable: false, statusCode: status),
                402 => new ProviderException(ProviderFailure.AccountExhausted, "The BFL account has run out of credits.", retryable: false, statusCode: status),
                401 or 403 => new ProviderException(ProviderFailure.Rejected, "BFL refused the API key.", retryable: false, statusCode: status),
                // A 5xx after a submit may still have created the job: never submit again.
                >= 500 => new ProviderException(ProviderFailure.Unavailable, $"BFL answered {status} to the submit: {detail}", retryable: false, RetryAfter(response), status),
                _ => new ProviderException(ProviderFailure.Error, $"BFL answered {status}: {detail}", retryable: false, statusCode: status),
            };
        }
    }

    /// <summary>A polling URL, if BFL may have named it: polls carry the key, so only the API's own hosts qualify.</summary>
    private Uri PollingUrl(string text) =>
        Urls.Parse(text, url => Urls.MayFetch(url) && Urls.MaySendKey(url))
        ?? throw new ProviderException(ProviderFailure.Error, "BFL answered a polling URL outside its own hosts; it was not followed.", retryable: false);

    /// <summary>One look at the job (its answer to the polling URL); a 5xx or 429 throws, as a connection failure does.</summary>
    private async Task<JsonObject?> LookAsync(Uri pollingUrl, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, pollingUrl);
        message.Headers.Add("x-key", options.Value.Bfl.ApiKey);
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        RefuseRedirect(response);
        if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw new HttpRequestException($"BFL answered {(int)response.StatusCode} to a poll.", null, response.StatusCode);
        }

        return JsonNode.Parse(await ProviderBodies.ReadCappedAsync("BFL", response, MaxPollBytes, cancellationToken)) as JsonObject;
    }

    private async Task<Uri> PollAsync(ProviderRequest request, Uri pollingUrl, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var delay = settings.PollMinInterval;
        var failures = 0;
        string? lastPreview = null;
        while (true)
        {
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(settings.PollMaxInterval.Ticks, (long)(delay.Ticks * 1.5)));

            JsonObject? body;
            try
            {
                body = await LookAsync(pollingUrl, cancellationToken);
                failures = 0;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // A failed poll is only a missed look at the job; look again later.
                if (++failures >= MaxPollFailures)
                {
                    throw e is HttpRequestException { StatusCode: { } answered }
                        ? new ProviderException(ProviderFailure.Unavailable, $"BFL answered {(int)answered} to {failures} polls in a row.", retryable: false, statusCode: (int)answered)
                        : new ProviderException(ProviderFailure.Unavailable, "BFL stopped answering polls.", retryable: false, inner: e);
                }

                continue;
            }

            var status = (string?)body?["status"];
            switch (status)
            {
                case "Pending":
                    if (body?["preview"] is JsonValue pv && pv.TryGetValue<string>(out var preview) && preview.Length > 0 && preview != lastPreview)
                    {
                        lastPreview = preview;
                        await RelayPreviewAsync(request, preview, cancellationToken);
                    }

                    var progress = body?["progress"] is JsonValue v && v.TryGetValue<double>(out var p) ? Math.Clamp(p, 0, 1) : (double?)null;
                    await request.OnProgress(progress ?? 0.1,
                        progress is { } known ? $"{request.Model.DisplayName} is painting... {known:P0}" : $"{request.Model.DisplayName} is painting...",
                        cancellationToken);
                    break;
                case "Ready":
                    var sample = (string?)body?["result"]?["sample"]
                        ?? throw new ProviderException(ProviderFailure.Error, "BFL reported Ready without a sample URL.", retryable: false);
                    return Urls.Parse(sample, Urls.MayFetch)
                        ?? throw new ProviderException(ProviderFailure.Error, "BFL's sample URL is outside its delivery hosts; it was not fetched.", retryable: false);
                case "Request Moderated":
                    throw new ProviderException(ProviderFailure.Moderated, "BFL's safety system refused the prompt.", retryable: false);
                case "Content Moderated":
                    throw new ProviderException(ProviderFailure.Moderated, "BFL's safety system refused the generated image.", retryable: false);
                case "Task not found":
                    throw new ProviderException(ProviderFailure.Expired, "BFL no longer knows this job (it expired or never existed).", retryable: false);
                case "Error":
                    throw new ProviderException(ProviderFailure.Error, $"BFL failed the job: {body?["details"]?.ToJsonString() ?? "no details"}", retryable: false);
                default:
                    throw new ProviderException(ProviderFailure.Error, $"BFL reported an unknown status '{status}'.", retryable: false);
            }
        }
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            var detail = JsonNode.Parse(text)?["detail"];
            return detail switch
            {
                JsonArray items => string.Join("; ", items.Select(i => $"{i?["loc"]?.AsArray().LastOrDefault()}: {i?["msg"]}")),
                JsonValue value => value.ToString(),
                _ => text,
            };
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta
        ?? (response.Headers.TryGetValues("Retry-After", out var values) && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
            ? TimeSpan.FromSeconds(s)
            : null);
}
