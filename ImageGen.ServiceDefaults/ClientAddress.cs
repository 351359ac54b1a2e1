using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageGen.ServiceDefaults;

/// <summary>Who may say where a request came from, and how addresses are grouped for limits. Bound from <c>ClientAddress</c>.</summary>
public sealed class ClientAddressOptions
{
    public const string Section = "ClientAddress";

    /// <summary>
    /// Peers whose <c>X-Forwarded-For</c> is believed: the hops inside ImageGen (the gateway, the web front end). By
    /// default loopback and the private networks a cluster's pods use; narrow it to the gateway's and the web's network
    /// where that is known (networks in CIDR form, comma-separated). A request from any other peer is judged by the
    /// peer's own address.
    /// </summary>
    public string TrustedProxies { get; set; } = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";

    /// <summary>How many leading bits of an IPv6 address make one caller for per-address limits (one household or server gets a /64).</summary>
    [System.ComponentModel.DataAnnotations.Range(32, 128)]
    public int Ipv6PrefixLength { get; set; } = 64;

    private IReadOnlyList<IPNetwork>? _networks;

    internal IReadOnlyList<IPNetwork> Networks() =>
        _networks ??= [.. TrustedProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(IPNetwork.Parse)];
}

/// <summary>
/// The address of the person behind a request. Services sit behind the gateway (and the API also behind the web front
/// end), the only public entries; each sets <c>X-Forwarded-For</c> to the address it saw. The last value is believed
/// only when the request comes from a trusted proxy (<see cref="ClientAddressOptions.TrustedProxies"/>): a value a
/// caller sent itself comes before it, and a caller that reaches a service directly is judged by its own address.
/// </summary>
public static class ClientAddress
{
    public const string Header = "X-Forwarded-For";

    public static string Of(HttpContext context) => AddressOf(context)?.ToString() ?? "unknown";

    /// <summary>
    /// The caller as per-address limits count it: an IPv4 address, or the IPv6 network of
    /// <see cref="ClientAddressOptions.Ipv6PrefixLength"/> bits it belongs to (one /64 cannot pass for many callers).
    /// </summary>
    public static string LimitKey(HttpContext context)
    {
        var options = Options(context);
        return AddressOf(context) is { } address ? Group(address, options.Ipv6PrefixLength) : "unknown";
    }

    /// <summary>The network of <paramref name="prefixLength"/> bits an IPv6 address belongs to (IPv4, and IPv4 in IPv6, as itself).</summary>
    public static string Group(IPAddress address, int prefixLength)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? new IPNetwork(Masked(address, prefixLength), prefixLength).ToString()
            : address.ToString();
    }

    private static IPAddress? AddressOf(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        var plainPeer = peer is { IsIPv4MappedToIPv6: true } ? peer.MapToIPv4() : peer;
        if (plainPeer is not null && !Options(context).Networks().Any(n => n.Contains(plainPeer)))
        {
            return plainPeer;
        }

        var forwarded = context.Request.Headers[Header].ToString();
        var last = forwarded.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return last is not null && IPAddress.TryParse(last, out var address) ? address : plainPeer;
    }

    private static IPAddress Masked(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefixLength; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPAddress(bytes);
    }

    private static ClientAddressOptions Options(HttpContext context) =>
        context.RequestServices?.GetService<IOptions<ClientAddressOptions>>()?.Value ?? Default;

    private static readonly ClientAddressOptions Default = new();
}
