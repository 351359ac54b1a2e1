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

    /// <summary>
    /// Every block of IANA's IPv4 Special-Purpose Address Registry (RFC 6890 and its updates), with multicast: none is a
    /// place a webhook may go, whether or not the registry calls it globally reachable.
    /// </summary>
    public static readonly IReadOnlyList<IPNetwork> SpecialV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.31.196.0/24"), IPNetwork.Parse("192.52.193.0/24"), IPNetwork.Parse("192.88.99.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("192.175.48.0/24"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"), IPNetwork.Parse("255.255.255.255/32"),
    ];

    /// <summary>
    /// Every block of IANA's IPv6 Special-Purpose Address Registry, with the deprecated site-local and IPv4-compatible
    /// blocks and multicast, but for the translation prefixes (<see cref="Embedded"/>): those are judged by the IPv4
    /// address they carry.
    /// </summary>
    public static readonly IReadOnlyList<IPNetwork> SpecialV6 =
    [
        IPNetwork.Parse("::/96"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("100::/64"), IPNetwork.Parse("100:0:0:1::/64"),
        IPNetwork.Parse("2001::/23"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("2620:4f:8000::/48"), IPNetwork.Parse("3fff::/20"),
        IPNetwork.Parse("5f00::/16"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    private static readonly IPNetwork Translated = IPNetwork.Parse("::ffff:0:0:0/96");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Nat64Local = IPNetwork.Parse("64:ff9b:1::/48");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork Teredo = IPNetwork.Parse("2001::/32");

    /// <summary>True for an address on the public internet (IPv4 inside IPv6 judged as the IPv4 it carries).</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !SpecialV4.Any(n => n.Contains(address));
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        if (Embedded(address) is { Length: > 0 } carried)
        {
            return carried.All(IsPublic);
        }

        return !SpecialV6.Any(n => n.Contains(address));
    }

    /// <summary>
    /// The IPv4 addresses an IPv6 address carries in a translation or tunnelling prefix: IPv4-mapped and SIIT's
    /// IPv4-translated (the last 32 bits), NAT64's well-known /96 and local-use /48 (RFC 6052's layout), 6to4 (bits
    /// 16-47), and Teredo (the server's and, inverted, the client's); none for any other address.
    /// </summary>
    public static IPAddress[] Embedded(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return [address.MapToIPv4()];
        }

        var b = address.GetAddressBytes();
        if (Translated.Contains(address) || Nat64.Contains(address))
        {
            return [new IPAddress(b[12..16])];
        }

        if (Nat64Local.Contains(address))
        {
            return [new IPAddress([b[6], b[7], b[9], b[10]])];
        }

        if (SixToFour.Contains(address))
        {
            return [new IPAddress(b[2..6])];
        }

        if (Teredo.Contains(address))
        {
            return [new IPAddress(b[4..8]), new IPAddress([(byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15]])];
        }

        return [];
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
