using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ImageGen.Core.Catalog;
using ImageGen.Rendering;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Midjourney through a service speaking the midjourney-proxy protocol: <c>POST /mj/submit/imagine</c> (or
/// <c>/mj/submit/action</c> with a grid button's <c>customId</c> for an upscale or a variation) with the
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

    public JsonObject Describe(ProviderRequest request) => request.Parameters.Action is { } action
        ? new JsonObject { ["endpoint"] = "/mj/submit/action", ["action"] = action, ["taskId"] = request.ParentJobId }
        : new JsonObject { ["endpoint"] = "/mj/submit/imagine", ["flags"] = Flags(request) };

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

        Uri imageUrl;
        try
        {
            if (request.ResumePollingUrl is null)
            {
                await request.OnJobAccepted(taskId, taskId, null, cancellationToken);
            }

            imageUrl = await PollAsync(request, taskId, cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            // The proxy has no cancel: the job runs on and holds one of the account's few slots until it ends there.
            var settings = options.Value;
            throw new ProviderJobLeftRunning(ProviderJobLeftRunning.WatchAsync(
                async watch => (string?)(await FetchAsync(taskId, watch))?["status"] is "NOT_START" or "SUBMITTED" or "MODAL" or "IN_PROGRESS",
                settings.PollMaxInterval, settings.LeftRunningWatch, MaxPollFailures), e);
        }

        var bytes = await DownloadAsync(imageUrl, cancellationToken);
        return new ProviderResult([ProviderBodies.Image("Midjourney", bytes, options.Value.ImageLimits)], null, Stopwatch.GetElapsedTime(started));
    }

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

    private async Task<string> SubmitAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        JsonObject body;
        string path;
        if (request.Parameters.Action is { } action)
        {
            var grid = await FetchAsync(request.ParentJobId ?? throw new ProviderException(ProviderFailure.Rejected, "The grid to follow up is unknown.", retryable: false),
                cancellationToken) ?? throw new ProviderException(ProviderFailure.Expired, "The proxy no longer knows the grid this follows up.", retryable: false);
            // The proxy's button for the action, found by what its customId says it does (labels are emoji or words).
            var marker = MidjourneyActions.ButtonMarker(action);
            var customId = grid["buttons"]?.AsArray().Select(b => (string?)b?["customId"]).FirstOrDefault(id => id?.Contains(marker, StringComparison.Ordinal) == true)
                ?? throw new ProviderException(ProviderFailure.Rejected, $"The picture offers no '{action}' button.", retryable: false);
            (path, body) = ("/mj/submit/action", new JsonObject { ["customId"] = customId, ["taskId"] = request.ParentJobId });
        }
        else
        {
            var flags = Flags(request);
            (path, body) = ("/mj/submit/imagine", new JsonObject { ["prompt"] = flags.Length == 0 ? request.Prompt : $"{request.Prompt} {flags}" });
        }

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
                // 1: submitted; 21: the same task exists; 22: queued behind others. Each names the task.
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

    private async Task<Uri> PollAsync(ProviderRequest request, string taskId, CancellationToken cancellationToken)
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
                    if (imageUrl is not null && imageUrl != lastPreview && ImageUrl(imageUrl) is { } partial)
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
                    return ImageUrl(imageUrl ?? "") ?? throw new ProviderException(ProviderFailure.Error,
                        "Midjourney's image link is outside the proxy and its image hosts; it was not fetched.", retryable: false);
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
