using System.Net;
using ImageGen.Api.Webhooks;
using ImageGen.Core.Quests;
using Microsoft.Extensions.Options;

namespace ImageGen.Tests.Unit;

/// <summary>A webhook cannot be aimed inside the network, whatever spelling of an address it uses.</summary>
public sealed class WebhookAddressPolicyTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")] // carrier-grade NAT
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("198.18.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:10.0.0.1")] // IPv4-mapped
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("64:ff9b::a00:1")] // NAT64 of 10.0.0.1
    [InlineData("2002:a00:1::")] // 6to4 of 10.0.0.1
    [InlineData("ff02::1")]
    public void Special_addresses_are_not_public(string address) => Assert.False(WebhookAddressPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    public void Public_addresses_are_public(string address) => Assert.True(WebhookAddressPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://2130706433/hook")] // 127.0.0.1 as one number
    [InlineData("http://0x7f.1/hook")] // 127.0.0.1 in hex
    [InlineData("http://[::1]:8080/hook")]
    [InlineData("http://[::ffff:192.168.0.1]/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("http://167772161/hook")] // 10.0.0.1 as one number
    public async Task A_url_inside_the_network_is_refused_by_name(string url)
    {
        var error = await Policy("").CheckAsync(url, "webhook", Token);
        Assert.Equal(("webhook", ErrorCodes.WebhookUrlNotAllowed), (error?.Field, error?.Code));
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/relative/hook")]
    [InlineData("https://user:password@example.com/hook")]
    [InlineData("not a url")]
    public async Task A_url_that_is_not_http_is_refused(string url)
    {
        var error = await Policy("").CheckAsync(url, "webhook", Token);
        Assert.Equal(ErrorCodes.WebhookUrlInvalid, error?.Code);
    }

    [Fact]
    public async Task An_overlong_url_is_refused()
    {
        var error = await Policy("").CheckAsync("https://example.com/" + new string('a', 3000), "webhook", Token);
        Assert.Equal(ErrorCodes.WebhookUrlInvalid, error?.Code);
    }

    [Fact]
    public async Task The_development_allow_list_lets_exactly_its_networks_through()
    {
        Assert.Null(await Policy("127.0.0.1/32").CheckAsync("http://127.0.0.1:5000/hook", "webhook", Token));
        Assert.Equal(ErrorCodes.WebhookUrlNotAllowed, (await Policy("127.0.0.1/32").CheckAsync("http://127.0.0.2:5000/hook", "webhook", Token))?.Code);
        Assert.NotNull(await Policy("").CheckAsync("http://127.0.0.1:5000/hook", "webhook", Token));
    }

    [Fact]
    public async Task A_public_address_literal_passes()
    {
        Assert.Null(await Policy("").CheckAsync("https://93.184.216.34/hook", "webhook", Token));
    }

    private static WebhookAddressPolicy Policy(string allowed) => new(Options.Create(new WebhookOptions { AllowedNetworks = allowed }));
}
