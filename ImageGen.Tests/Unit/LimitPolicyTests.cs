using System.Net;
using System.Reflection;
using ImageGen.Api.Hubs;
using ImageGen.Api.Limits;
using ImageGen.ServiceDefaults;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.SignalR;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Every endpoint the API maps, and every hub method, declares its limit; the check itself refuses an endpoint or a
/// method that declares none. Callers are grouped as limits count them: a user by id, an IPv6 caller by its /64.
/// </summary>
public sealed class LimitPolicyTests
{
    [Fact]
    public void Every_api_endpoint_declares_a_known_limit_policy()
    {
        var endpoints = ApiEndpointTable.Endpoints;
        Assert.True(endpoints.Count > 40, $"only {endpoints.Count} endpoints found");
        var missing = endpoints.Where(e => LimitPolicies.Of(e) is not { } policy || !LimitPolicies.All.Contains(policy))
            .Select(e => $"{e.DisplayName} ({LimitPolicies.Of(e) ?? "none"})").ToList();
        Assert.True(missing.Count == 0, "Endpoints without a limit policy: " + string.Join("; ", missing));
    }

    [Theory]
    [InlineData("POST", "/api/quests", LimitPolicies.Submit)]
    [InlineData("POST", "/v1/images/generations", LimitPolicies.Submit)]
    [InlineData("POST", "/api/uploads", LimitPolicies.Submit)]
    [InlineData("POST", "/api/auth/register", LimitPolicies.Account)]
    [InlineData("POST", "/api/auth/login", LimitPolicies.Account)]
    [InlineData("POST", "/api/auth/change-password", LimitPolicies.Account)]
    [InlineData("GET", "/api/quests/{id}", LimitPolicies.Read)]
    [InlineData("GET", "/api/me", LimitPolicies.Read)]
    [InlineData("GET", "/images/{id}", LimitPolicies.Images)]
    [InlineData("GET", "/images/shared/{token}", LimitPolicies.Shared)]
    [InlineData("POST", "/api/keys", LimitPolicies.Write)]
    [InlineData("GET", "/openapi/{documentName}.json", LimitPolicies.Read)]
    public void The_costly_and_the_sensitive_endpoints_have_their_own_policy(string method, string path, string policy)
    {
        var endpoint = ApiEndpointTable.Endpoints.Single(e => Matches(e, method, path));
        Assert.Equal(policy, LimitPolicies.Of(endpoint));
    }

    [Fact]
    public void Every_hub_method_is_limited()
    {
        var methods = typeof(QuestHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.Name is not (nameof(Hub.OnConnectedAsync) or nameof(Hub.OnDisconnectedAsync)))
            .ToList();
        Assert.NotEmpty(methods);
        Assert.All(methods, m => Assert.True(HubCallLimits.IsLimited(m), $"{m.Name} is not limited"));
    }

    [Fact]
    public void The_check_refuses_an_endpoint_and_a_hub_method_that_declare_nothing()
    {
        var bare = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/api/new-thing"), 0, EndpointMetadataCollection.Empty, "new thing");
        Assert.Null(LimitPolicies.Of(bare));
        var disabled = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/api/new-thing"), 0,
            new EndpointMetadataCollection(new Microsoft.AspNetCore.RateLimiting.EnableRateLimitingAttribute(LimitPolicies.Read),
                new Microsoft.AspNetCore.RateLimiting.DisableRateLimitingAttribute()), "new thing");
        Assert.Null(LimitPolicies.Of(disabled));
        Assert.False(HubCallLimits.IsLimited(typeof(LimitPolicyTests).GetMethod(nameof(Unlimited), BindingFlags.NonPublic | BindingFlags.Static)!));
    }

    [Theory]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7")]
    [InlineData("192.0.2.7", "192.0.2.7")]
    public void Ipv6_callers_are_counted_by_their_64(string address, string key) =>
        Assert.Equal(key, ClientAddress.Group(IPAddress.Parse(address), 64));

    [Fact]
    public void A_forwarded_address_is_believed_only_from_a_trusted_proxy()
    {
        var fromGateway = new DefaultHttpContext();
        fromGateway.Connection.RemoteIpAddress = IPAddress.Loopback;
        fromGateway.Request.Headers[ClientAddress.Header] = "198.51.100.1, 203.0.113.9";
        Assert.Equal("203.0.113.9", ClientAddress.Of(fromGateway));

        var direct = new DefaultHttpContext();
        direct.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.50");
        direct.Request.Headers[ClientAddress.Header] = "198.51.100.1";
        Assert.Equal("203.0.113.50", ClientAddress.Of(direct));
    }

    private static void Unlimited()
    {
    }

    private static bool Matches(RouteEndpoint endpoint, string method, string path) =>
        "/" + endpoint.RoutePattern.RawText!.Trim('/') == path.TrimEnd('/')
        && (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(method) ?? method == "GET");
}
