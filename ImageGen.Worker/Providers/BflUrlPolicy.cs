namespace ImageGen.Worker.Providers;

/// <summary>
/// Where a BFL response may send us. A polling URL or a result sample comes from the provider's answer, so it is
/// checked before it is fetched: it must be the configured endpoint's own origin (the provider simulator in development
/// and tests), or https on one of the configured hosts. The <c>x-key</c> goes only to the configured API host and the
/// configured key hosts, never to a delivery host or anywhere a response names.
/// </summary>
internal sealed class BflUrlPolicy(BflAccountOptions account)
{
    /// <summary>True when the URL may be fetched at all.</summary>
    public bool MayFetch(Uri url) => IsEndpointOrigin(url) || (IsHttps(url) && account.ResultHosts.Any(suffix => HostMatches(url.Host, suffix)));

    /// <summary>True when the API key may go with a request to this URL.</summary>
    public bool MaySendKey(Uri url) =>
        IsEndpointOrigin(url) || (IsHttps(url) && account.KeyHosts.Any(host => string.Equals(url.Host, host, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The URL a response named, if it is one this policy allows; null otherwise.</summary>
    public Uri? Parse(string? text, Func<Uri, bool> rule) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.UserInfo.Length == 0 && rule(url) ? url : null;

    private bool IsEndpointOrigin(Uri url) =>
        account.Endpoint is { } endpoint
        && string.Equals(url.Scheme, endpoint.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(url.Host, endpoint.Host, StringComparison.OrdinalIgnoreCase)
        && url.Port == endpoint.Port;

    private static bool IsHttps(Uri url) => url.Scheme == Uri.UriSchemeHttps;

    /// <summary>The host itself or a subdomain of it: "delivery-eu1.bfl.ai" matches "bfl.ai"; "evilbfl.ai" does not.</summary>
    private static bool HostMatches(string host, string suffix) =>
        string.Equals(host, suffix, StringComparison.OrdinalIgnoreCase)
        || host.EndsWith("." + suffix.TrimStart('.'), StringComparison.OrdinalIgnoreCase);
}
