using System.Net;
using ImageGen.Api.Webhooks;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The webhook guard against IANA's special-purpose registries, one row per block (its first and its last address), and
/// against every IPv4 address carried in an IPv6 translation prefix: a private or metadata address is refused in each
/// of its IPv6 spellings.
/// </summary>
public sealed class SpecialAddressTests
{
    [Theory]
    [InlineData("0.0.0.0", "0.255.255.255")] // "this network"
    [InlineData("10.0.0.0", "10.255.255.255")] // private
    [InlineData("100.64.0.0", "100.127.255.255")] // shared address space (carrier-grade NAT)
    [InlineData("127.0.0.0", "127.255.255.255")] // loopback
    [InlineData("169.254.0.0", "169.254.255.255")] // link-local, cloud metadata
    [InlineData("172.16.0.0", "172.31.255.255")] // private
    [InlineData("192.0.0.0", "192.0.0.255")] // IETF protocol assignments (DS-Lite, NAT64 discovery)
    [InlineData("192.0.2.0", "192.0.2.255")] // TEST-NET-1
    [InlineData("192.31.196.0", "192.31.196.255")] // AS112-v4
    [InlineData("192.52.193.0", "192.52.193.255")] // AMT
    [InlineData("192.88.99.0", "192.88.99.255")] // deprecated 6to4 relay anycast
    [InlineData("192.168.0.0", "192.168.255.255")] // private
    [InlineData("192.175.48.0", "192.175.48.255")] // direct delegation AS112
    [InlineData("198.18.0.0", "198.19.255.255")] // benchmarking
    [InlineData("198.51.100.0", "198.51.100.255")] // TEST-NET-2
    [InlineData("203.0.113.0", "203.0.113.255")] // TEST-NET-3
    [InlineData("224.0.0.0", "239.255.255.255")] // multicast
    [InlineData("240.0.0.0", "255.255.255.254")] // reserved
    [InlineData("255.255.255.255", "255.255.255.255")] // limited broadcast
    public void Every_ipv4_special_purpose_block_is_refused(string first, string last) => AssertRefused(first, last);

    [Theory]
    [InlineData("::", "::ffff:ffff")] // unspecified, IPv4-compatible (deprecated)
    [InlineData("::1", "::1")] // loopback
    [InlineData("100::", "100::ffff:ffff:ffff:ffff")] // discard-only
    [InlineData("100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff")] // dummy prefix
    [InlineData("2001:1::1", "2001:1::3")] // PCP, TURN and DNS-SD anycast
    [InlineData("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff")] // benchmarking
    [InlineData("2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff")] // AMT
    [InlineData("2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff")] // AS112-v6
    [InlineData("2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff")] // ORCHID (deprecated)
    [InlineData("2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff")] // ORCHIDv2
    [InlineData("2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff")] // drone remote ID
    [InlineData("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")] // documentation
    [InlineData("2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff")] // direct delegation AS112
    [InlineData("3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff")] // documentation
    [InlineData("5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff")] // SRv6 SIDs
    [InlineData("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")] // unique local
    [InlineData("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")] // link-local
    [InlineData("fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")] // site-local (deprecated)
    [InlineData("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")] // multicast
    public void Every_ipv6_special_purpose_block_is_refused(string first, string last) => AssertRefused(first, last);

    [Theory]
    [InlineData("::ffff:{0}")] // IPv4-mapped
    [InlineData("::ffff:0:{0}")] // SIIT, IPv4-translated
    [InlineData("64:ff9b::{0}")] // NAT64, well-known prefix
    [InlineData("64:ff9b:1:{1}")] // NAT64, local-use prefix (RFC 6052's /48 layout)
    [InlineData("2002:{2}::")] // 6to4
    [InlineData("2001:0:{2}:0:0:{3}")] // Teredo: the server
    [InlineData("2001:0:808:808:0:0:{4}")] // Teredo: the client, inverted
    public void A_private_or_metadata_ipv4_in_every_translation_prefix_is_refused_and_a_public_one_passes(string form)
    {
        foreach (var inside in new[] { "10.0.0.1", "169.254.169.254", "127.0.0.1", "192.168.1.1", "100.64.0.1" })
        {
            Assert.False(WebhookAddressPolicy.IsPublic(IPAddress.Parse(Spell(form, inside, outside: "8.8.8.8"))), $"{form} carrying {inside}");
        }

        Assert.True(WebhookAddressPolicy.IsPublic(IPAddress.Parse(Spell(form, "8.8.4.4", outside: "8.8.8.8"))), $"{form} carrying 8.8.4.4");
    }

    /// <summary>The IPv6 address of <paramref name="form"/> carrying <paramref name="ipv4"/> ({0} dotted, {1} the /48 layout, {2} two hex groups, {4} Teredo's inverted client); {3} a public client.</summary>
    private static string Spell(string form, string ipv4, string outside)
    {
        var b = IPAddress.Parse(ipv4).GetAddressBytes();
        var o = IPAddress.Parse(outside).GetAddressBytes();
        string Hex(byte high, byte low) => ((high << 8) | low).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, form,
            ipv4,
            $"{Hex(b[0], b[1])}:{Hex(0, b[2])}:{Hex(b[3], 0)}::",
            $"{Hex(b[0], b[1])}:{Hex(b[2], b[3])}",
            $"{Hex((byte)~o[0], (byte)~o[1])}:{Hex((byte)~o[2], (byte)~o[3])}",
            $"{Hex((byte)~b[0], (byte)~b[1])}:{Hex((byte)~b[2], (byte)~b[3])}");
    }

    private static void AssertRefused(string first, string last)
    {
        Assert.False(WebhookAddressPolicy.IsPublic(IPAddress.Parse(first)), first);
        Assert.False(WebhookAddressPolicy.IsPublic(IPAddress.Parse(last)), last);
    }
}
