using System.Net;
using ImageGen.Rendering;

namespace ImageGen.Worker.Providers;

/// <summary>
/// What BFL points at: a poll's preview frame and the finished sample, fetched only under <see cref="BflUrlPolicy"/>,
/// without redirects and up to a size cap (the sample without the key: its URL is signed).
/// </summary>
internal sealed partial class BflImageProvider
{
    /// <summary>The most a preview may weigh: it is shrunk to a small frame at once.</summary>
    private const long MaxPreviewBytes = 8L << 20;

    /// <summary>
    /// A preview a poll answer carries (a link on BFL's delivery hosts, or the image inline as base64) becomes the
    /// quest's preview frame. A link elsewhere is not fetched; a preview that fails in any way is skipped, never the job.
    /// </summary>
    private async Task RelayPreviewAsync(ProviderRequest request, string preview, CancellationToken cancellationToken)
    {
        try
        {
            byte[] bytes;
            if (Uri.TryCreate(preview, UriKind.Absolute, out var link) && (link.Scheme == Uri.UriSchemeHttps || link.Scheme == Uri.UriSchemeHttp))
            {
                if (Urls.Parse(preview, Urls.MayFetch) is not { } allowed)
                {
                    return;
                }

                using var response = await http.GetAsync(allowed, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return;
                }

                bytes = await ProviderBodies.ReadCappedAsync("BFL", response, MaxPreviewBytes, cancellationToken);
            }
            else
            {
                var inline = preview.StartsWith("data:", StringComparison.Ordinal) ? preview[(preview.IndexOf(',', StringComparison.Ordinal) + 1)..] : preview;
                if (inline.Length > MaxPreviewBytes * 4 / 3)
                {
                    return;
                }

                bytes = Convert.FromBase64String(inline);
            }

            if (SketchRenderer.PreviewOf(bytes, options.Value.ImageLimits) is { } frame)
            {
                request.OnPreview(frame);
            }
        }
        catch (Exception e) when (e is ProviderException or FormatException or HttpRequestException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A missed preview is only a missed look at the picture.
        }
    }

    /// <summary>The sample, without the key (its URL is signed), without redirects, up to the size cap.</summary>
    private async Task<byte[]> DownloadAsync(Uri sampleUrl, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(sampleUrl, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        RefuseRedirect(response);
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            throw new ProviderException(ProviderFailure.Expired, "BFL's sample URL expired before it could be downloaded.", retryable: false, statusCode: (int)response.StatusCode);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new ProviderException(ProviderFailure.Unavailable, $"Downloading BFL's sample failed with {(int)response.StatusCode}.", retryable: false, statusCode: (int)response.StatusCode);
        }

        return await ProviderBodies.ReadCappedAsync("BFL", response, options.Value.MaxResponseBytes, cancellationToken);
    }

    /// <summary>A redirect could lead anywhere (inside the network, too): it is an error, never followed.</summary>
    private static void RefuseRedirect(HttpResponseMessage response)
    {
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            throw new ProviderException(ProviderFailure.Error, $"BFL answered a redirect ({(int)response.StatusCode}); it was not followed.", retryable: false,
                statusCode: (int)response.StatusCode);
        }
    }
}
