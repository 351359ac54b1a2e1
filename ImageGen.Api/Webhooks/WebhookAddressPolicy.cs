using System.Net;
using System.Net.Sockets;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Webhooks;

/// <summary>
/// Where a webhook may point: an absolute http(s) URL whose host has only public addresses (or addresses in the
/// configured development allow-list). Checked when a URL is given, and again at every connection, on the address
/// actually dialled: a name that resolved to a public address yesterday and to 10.0.0.1 now is refused now.
/// </summary>
public sealed class WebhookAddressPolicy(IOptions<WebhookOptions> options)
{
    private readonly IReadOnlyList<IPNetwork> _allowed = options.Value.Networks();

    /// <summary>Addresses never reached from the internet, or that mean this host or its neighbours (IANA special-purpose).</summary>
    private static readonly IPNetwork[] NotPublicV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.88.99.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
    ];

    private static readonly IPNetwork[] NotPublicV6 =
    [
        IPNetwork.Parse("::/96"), IPNetwork.Parse("100::/64"), IPNetwork.Parse("2001::/32"), IPNetwork.Parse("2001:db8::/32"),
        IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>True for an address on the public internet (IPv4 inside IPv6 judged as the IPv4 it carries).</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !NotPublicV4.Any(n => n.Contains(address));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IPv6Loopback.Equals(address) || IPAddress.IPv6None.Equals(address))
        {
            return false;
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return IsPublic(new IPAddress(bytes[12..16]));
        }

        if (SixToFour.Contains(address))
        {
            return IsPublic(new IPAddress(bytes[2..6]));
        }

        return !NotPublicV6.Any(n => n.Contains(address));
    }

    /// <summary>Public, or in the development allow-list.</summary>
    public bool IsAllowed(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return IsPublic(plain) || _allowed.Any(n => n.Contains(plain));
    }

    /// <summary>
    /// Checks a webhook URL as given by a client: its form, then every address its host resolves to. Null when it may
    /// be used; else the problem, for the field <paramref name="field"/>.
    /// </summary>
    public async Task<FieldError?> CheckAsync(string url, string field, CancellationToken cancellationToken)
    {
        if (url.Length > WebhookLimits.MaxUrlLength
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.UserInfo.Length > 0
            || uri.Host.Length == 0)
        {
            return new FieldError(field, ErrorCodes.WebhookUrlInvalid,
                $"A webhook is an absolute http or https URL without a user name or password, at most {WebhookLimits.MaxUrlLength} characters.");
        }

        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            addresses = await ResolveAsync(uri.IdnHost, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or ArgumentException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            addresses = [];
        }

        if (addresses.Length == 0)
        {
            return new FieldError(field, ErrorCodes.WebhookUrlUnresolvable, $"The webhook's host '{uri.Host}' could not be found.");
        }

        return addresses.All(IsAllowed)
            ? null
            : new FieldError(field, ErrorCodes.WebhookUrlNotAllowed,
                $"The webhook's host '{uri.Host}' is not a public address (loopback, private, link-local and other special networks are refused).");
    }

    /// <summary>
    /// Opens the connection for a webhook request to an allowed address of the host, never another (the check and the
    /// dial see the same answer, so a name cannot be re-pointed in between).
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var allowed = (await ResolveAsync(host, cancellationToken)).Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"The webhook's host '{host}' has no public address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
}
