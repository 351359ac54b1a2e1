using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ImageGen.Core.Catalog;
using ImageGen.Rendering;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Midjourney through a service speaking the midjourney-proxy protocol: <c>POST /mj/submit/imagine</c>, <c>/blend</c>
/// or <c>/describe</c> (or <c>/mj/submit/action</c> with a button's <c>customId</c> for a follow-up, then
/// <c>/mj/submit/modal</c> with the mask for a region to vary) with the
/// <c>mj-api-secret</c> header, then <c>GET /mj/task/{id}/fetch</c> until it succeeds or fails. The in-progress grid the
/// proxy reports becomes the quest's preview frame. As with BFL, an image link is fetched only from the proxy's host or
/// the configured image hosts over https, never with the secret, never through a redirect, and only up to a size cap;
/// a submit that failed after it was sent is not sent again (the job may exist).
/// </summary>
internal sealed class MidjourneyImageProvider(HttpClient http, IOptions<ProviderOptions> options) : IImageProvider
{
    public const string HttpClientName = "midjourney";

    /// <summary>A task answer is a few KB of JSON; more is not one.</summary>
    private const long MaxTaskBytes = 1 << 20;
    private const int MaxPollFailures = 10;

    public ModelProvider Provider => ModelProvider.Midjourney;

    private MidjourneyAccountOptions Account => options.Value.Midjourney;

    public JsonObject Describe(ProviderRequest request) => request.Parameters.Action switch
    {
        null => new JsonObject { ["endpoint"] = "/mj/submit/imagine", ["flags"] = Flags(request) },
        MidjourneyActions.Blend => new JsonObject { ["endpoint"] = "/mj/submit/blend", ["images"] = request.Inputs.Count, ["dimensions"] = BlendDimensions(request) },
        MidjourneyActions.Describe => new JsonObject { ["endpoint"] = "/mj/submit/describe" },
        MidjourneyActions.VaryRegion => new JsonObject { ["endpoint"] = "/mj/submit/action", ["then"] = "/mj/submit/modal", ["action"] = MidjourneyActions.VaryRegion, ["taskId"] = request.ParentJobId },
        var action => new JsonObject { ["endpoint"] = "/mj/submit/action", ["action"] = action, ["taskId"] = request.ParentJobId },
    };

    private static string BlendDimensions(ProviderRequest request) => MidjourneyActions.BlendDimensions[request.Parameters.AspectRatio ?? "1:1"];

    public async Task<ProviderResult> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string taskId;
        if (request.ResumePollingUrl is { } resume)
        {
            taskId = resume;
        }
        else
        {
            taskId = await SubmitAsync(request, cancellationToken);
        }

        JsonObject done;
        try
        {
            if (request.ResumePollingUrl is null)
            {
                await request.OnJobAccepted(taskId, taskId, null, cancellationToken);
            }

            done = await PollAsync(request, taskId, cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            // The proxy has no cancel: the job runs on and holds one of the account's few slots until it ends there.
            var settings = options.Value;
            throw new ProviderJobLeftRunning(ProviderJobLeftRunning.WatchAsync(
                async watch => (string?)(await FetchAsync(taskId, watch))?["status"] is "NOT_START" or "SUBMITTED" or "MODAL" or "IN_PROGRESS",
                settings.PollMaxInterval, settings.LeftRunningWatch, MaxPollFailures), e);
        }

        if (request.Parameters.Action == MidjourneyActions.Describe)
        {
            // A description's answer is text: Midjourney's four numbered prompts.
            return new ProviderResult([], null, Stopwatch.GetElapsedTime(started)) { Descriptions = Descriptions((string?)done["prompt"]) };
        }

        var imageUrl = ImageUrl((string?)done["imageUrl"] ?? "") ?? throw new ProviderException(ProviderFailure.Error,
            "Midjourney's image link is outside the proxy and its image hosts; it was not fetched.", retryable: false);
        var bytes = await DownloadAsync(imageUrl, cancellationToken);
        return new ProviderResult([ProviderBodies.Image("Midjourney", bytes, options.Value.ImageLimits)], null, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The prompts of a describe answer, numbered 1️⃣ to 4️⃣ (or 1. to 4.), without their numbers; at most four.</summary>
    internal static IReadOnlyList<string> Descriptions(string? text) =>
        text is null ? [] : [.. System.Text.RegularExpressions.Regex.Split(text, @"(?m)^\s*[1-4](?:\uFE0F?\u20E3|[.)])\s*")
            .Select(p => p.Trim()).Where(p => p.Length > 0).Take(4)];

    /// <summary>The prompt's Midjourney flags: the aspect ratio, stylize and version the quest asked for.</summary>
    internal static string Flags(ProviderRequest request)
    {
        var p = request.Parameters;
        var flags = new List<string>();
        if (p.AspectRatio is { } ratio and not "1:1")
        {
            flags.Add($"--ar {ratio}");
        }

        if (p.Stylize is { } stylize)
        {
            flags.Add($"--stylize {stylize.ToString(CultureInfo.InvariantCulture)}");
        }

        if (p.Version is { } version)
        {
            flags.Add(version.StartsWith("niji", StringComparison.Ordinal) ? $"--{version}" : $"--v {version}");
        }

        return string.Join(' ', flags);
    }

    /// <summary>
    /// Submits the job: an imagine, a blend or a describe; a follow-up through the proxy's button for it (found by what
    /// its <c>customId</c> says it does: labels are emoji or words); a region to vary in two steps, the button, which
    /// opens a "modal" task, then the mask for it.
    /// </summary>
    private async Task<string> SubmitAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        switch (request.Parameters.Action)
        {
            case null:
                var flags = Flags(request);
                return await PostAsync("/mj/submit/imagine", new JsonObject { ["prompt"] = flags.Length == 0 ? request.Prompt : $"{request.Prompt} {flags}" }, cancellationToken);
            case MidjourneyActions.Blend:
                return await PostAsync("/mj/submit/blend", new JsonObject
                {
                    ["base64Array"] = new JsonArray([.. request.Inputs.Select(i => (JsonNode?)DataUrl(i.ContentType, i.Bytes))]),
                    ["dimensions"] = BlendDimensions(request),
                }, cancellationToken);
            case MidjourneyActions.Describe:
                var image = request.Inputs.FirstOrDefault() ?? throw new ProviderException(ProviderFailure.Rejected, "There is no image to describe.", retryable: false);
                return await PostAsync("/mj/submit/describe", new JsonObject { ["base64"] = DataUrl(image.ContentType, image.Bytes) }, cancellationToken);
        }

        var action = request.Parameters.Action;
        var parent = request.ParentJobId ?? throw new ProviderException(ProviderFailure.Rejected, "The grid to follow up is unknown.", retryable: false);
        var picture = await FetchAsync(parent, cancellationToken)
            ?? throw new ProviderException(ProviderFailure.Expired, "The proxy no longer knows the grid this follows up.", retryable: false);
        var marker = MidjourneyActions.ButtonMarker(action);
        var customId = picture["buttons"]?.AsArray().Select(b => (string?)b?["customId"]).FirstOrDefault(id => id?.Contains(marker, StringComparison.Ordinal) == true)
            ?? throw new ProviderException(ProviderFailure.Rejected, $"The picture offers no '{action}' button.", retryable: false);
        var taskId = await PostAsync("/mj/submit/action", new JsonObject { ["customId"] = customId, ["taskId"] = parent }, cancellationToken);
        if (action != MidjourneyActions.VaryRegion)
        {
            return taskId;
        }

        // Ours is transparent where to repaint; the proxy's window takes white there, black elsewhere (as BFL's fill).
        var mask = request.Mask ?? throw new ProviderException(ProviderFailure.Rejected, "Vary region needs the region marked in a mask.", retryable: false);
        return await PostAsync("/mj/submit/modal", new JsonObject
        {
            ["taskId"] = taskId,
            ["prompt"] = request.Prompt,
            ["maskBase64"] = DataUrl("image/png", ImageEncoding.FillMask(mask.Bytes)),
        }, cancellationToken);
    }

    private static string DataUrl(string contentType, byte[] bytes) => $"data:{contentType};base64,{Convert.ToBase64String(bytes)}";

    /// <summary>One submit to the proxy: the task id it names, or the failure it means. A submit that failed after it was sent is not sent again.</summary>
    private async Task<string> PostAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(Account.Endpoint!, path)) { Content = JsonContent.Create(body) };
        message.Headers.Add("mj-api-secret", Account.ApiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, cancellationToken);
        }
        catch (HttpRequestException e) when (e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
        {
            throw new ProviderException(ProviderFailure.Unavailable, "The Midjourney proxy could not be reached.", retryable: true, inner: e);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ProviderException(ProviderFailure.Unavailable, "The submit to the Midjourney proxy did not complete; it is not sent again, as the job may exist.", retryable: false, inner: e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is 401 or 403)
            {
                throw new ProviderException(ProviderFailure.Rejected, "The Midjourney proxy refused the secret.", retryable: false, statusCode: status);
            }

            if (status == 429 || status >= 500)
            {
                throw new ProviderException(ProviderFailure.Unavailable, $"The Midjourney proxy answered {status} to the submit.", retryable: status == 429, statusCode: status);
            }

            var answer = JsonNode.Parse(await ProviderBodies.ReadCappedAsync("The Midjourney proxy", response, MaxTaskBytes, cancellationToken)) as JsonObject;
            var code = (int?)answer?["code"];
            var description = (string?)answer?["description"] ?? "no description";
            return code switch
            {
                // 1: submitted; 21: the same task exists (or, for a window, the task waiting for it); 22: queued behind others.
                1 or 21 or 22 when answer?["result"]?.ToString() is { Length: > 0 } id => id,
                23 => throw new ProviderException(ProviderFailure.RateLimited, $"The Midjourney proxy's queue is full: {description}", retryable: true, TimeSpan.FromSeconds(5)),
                24 => throw new ProviderException(ProviderFailure.Moderated, "Midjourney refuses a word in this prompt.", retryable: false),
                _ => throw new ProviderException(ProviderFailure.Rejected, $"The Midjourney proxy refused the job (code {code}): {description}", retryable: false),
            };
        }
    }

    private async Task<JsonObject?> FetchAsync(string taskId, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(Account.Endpoint!, $"/mj/task/{Uri.EscapeDataString(taskId)}/fetch"));
        message.Headers.Add("mj-api-secret", Account.ApiKey);
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            throw new ProviderException(ProviderFailure.Error, "The Midjourney proxy answered a redirect; it was not followed.", retryable: false);
        }

        if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw new HttpRequestException($"The proxy answered {(int)response.StatusCode}.");
        }

        return response.StatusCode == HttpStatusCode.NotFound
            ? null
            : JsonNode.Parse(await ProviderBodies.ReadCappedAsync("The Midjourney proxy", response, MaxTaskBytes, cancellationToken)) as JsonObject;
    }

    private async Task<JsonObject> PollAsync(ProviderRequest request, string taskId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var delay = settings.PollMinInterval;
        var failures = 0;
        string? lastPreview = null;
        while (true)
        {
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(settings.PollMaxInterval.Ticks, (long)(delay.Ticks * 1.5)));
            JsonObject? task;
            try
            {
                task = await FetchAsync(taskId, cancellationToken);
                failures = 0;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                if (++failures >= MaxPollFailures)
                {
                    throw new ProviderException(ProviderFailure.Unavailable, "The Midjourney proxy stopped answering.", retryable: false, inner: e);
                }

                continue;
            }

            if (task is null)
            {
                throw new ProviderException(ProviderFailure.Expired, "The Midjourney proxy no longer knows this job.", retryable: false);
            }

            var imageUrl = (string?)task["imageUrl"];
            switch ((string?)task["status"])
            {
                case "NOT_START" or "SUBMITTED" or "MODAL":
                    await request.OnProgress(0.05, "Waiting in Midjourney's queue...", cancellationToken);
                    break;
                case "IN_PROGRESS":
                    var progress = double.TryParse(((string?)task["progress"])?.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
                        ? Math.Clamp(percent / 100, 0, 1) : 0.1;
                    // The grid so far, when the proxy shows one: only a new link is fetched.
                    if (imageUrl is not null && imageUrl != lastPreview && request.Parameters.Action != MidjourneyActions.Describe && ImageUrl(imageUrl) is { } partial)
                    {
                        lastPreview = imageUrl;
                        try
                        {
                            if (SketchRenderer.PreviewOf(await DownloadAsync(partial, cancellationToken), options.Value.ImageLimits) is { } frame)
                            {
                                request.OnPreview(frame);
                            }
                        }
                        catch (ProviderException)
                        {
                            // A missed preview is only a missed look; the job goes on.
                        }
                    }

                    await request.OnProgress(Math.Max(0.1, progress), $"Midjourney is painting... {progress:P0}", cancellationToken);
                    break;
                case "SUCCESS":
                    return task;
                case "FAILURE" or "CANCEL":
                    var reason = (string?)task["failReason"] ?? "no reason given";
                    throw reason.Contains("banned", StringComparison.OrdinalIgnoreCase) || reason.Contains("moderat", StringComparison.OrdinalIgnoreCase)
                        ? new ProviderException(ProviderFailure.Moderated, $"Midjourney refused the job: {reason}", retryable: false)
                        : new ProviderException(ProviderFailure.Error, $"Midjourney failed the job: {reason}", retryable: false);
                case var other:
                    throw new ProviderException(ProviderFailure.Error, $"The Midjourney proxy reported an unknown status '{other}'.", retryable: false);
            }
        }
    }

    /// <summary>An image link the proxy may name: its own origin, or https on an image host (and their subdomains).</summary>
    internal Uri? ImageUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.UserInfo.Length > 0)
        {
            return null;
        }

        var proxy = Account.Endpoint!;
        if (url.Scheme == proxy.Scheme && url.IdnHost == proxy.IdnHost && url.Port == proxy.Port)
        {
            return url;
        }

        return url.Scheme == Uri.UriSchemeHttps && Account.ImageHosts.Any(h => url.IdnHost == h || url.IdnHost.EndsWith("." + h, StringComparison.Ordinal))
            ? url
            : null;
    }

    /// <summary>An image, without the secret, without redirects, up to the size cap.</summary>
    private async Task<byte[]> DownloadAsync(Uri url, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            throw new ProviderException(ProviderFailure.Error, "Midjourney's image link answered a redirect; it was not followed.", retryable: false);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new ProviderException(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden ? ProviderFailure.Expired : ProviderFailure.Unavailable,
                $"Downloading Midjourney's image failed with {(int)response.StatusCode}.", retryable: false, statusCode: (int)response.StatusCode);
        }

        return await ProviderBodies.ReadCappedAsync("The Midjourney proxy", response, options.Value.MaxResponseBytes, cancellationToken);
    }
}
