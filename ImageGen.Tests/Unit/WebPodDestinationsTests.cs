using ImageGen.Gateway;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;

namespace ImageGen.Tests.Unit;

/// <summary>In a cluster, the gateway's web destinations are the addresses a headless Service's name resolves to.</summary>
public sealed class WebPodDestinationsTests
{
    [Fact]
    public async Task Each_address_the_name_resolves_to_becomes_a_web_destination_on_the_pods_port_and_the_rest_stays()
    {
        var proxy = new InMemoryConfigProvider(GatewayRoutes.Routes, GatewayRoutes.Clusters(["http://web"]));
        var pods = new WebPodDestinations(new WebPodsOptions(new Uri("http://localhost:8080")), proxy, NullLogger<WebPodDestinations>.Instance);

        await pods.RefreshAsync(TestContext.Current.CancellationToken);

        var config = proxy.GetConfig();
        var web = config.Clusters.Single(c => c.ClusterId == GatewayRoutes.WebCluster);
        Assert.Contains(web.Destinations!.Values, d => d.Address == "http://127.0.0.1:8080");
        Assert.All(web.Destinations!, d => Assert.StartsWith("pod-", d.Key, StringComparison.Ordinal));
        Assert.All(web.Destinations!.Values, d => Assert.EndsWith(":8080", d.Address, StringComparison.Ordinal));
        // Still kept to its pod by the cookie; the API's cluster and the routes as they were.
        Assert.Equal(GatewayRoutes.WebAffinityCookie, web.SessionAffinity!.AffinityKeyName);
        Assert.Equal("http://api", config.Clusters.Single(c => c.ClusterId == GatewayRoutes.ApiCluster).Destinations!.Single().Value.Address);
        Assert.Equal(GatewayRoutes.Routes.Count, config.Routes.Count);
    }
}
