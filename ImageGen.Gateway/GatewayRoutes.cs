using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.SessionAffinity;

namespace ImageGen.Gateway;

/// <summary>
/// The public surface: <c>/api</c>, <c>/v1</c>, <c>/hubs</c> (WebSockets pass through) and <c>/images</c> go to the API,
/// everything else to the web front end. Destinations are service names resolved by service discovery.
/// </summary>
internal static class GatewayRoutes
{
    public const string ApiCluster = "api";
    public const string WebCluster = "web";

    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        // Rate-limited operations come first (lower order wins among matching routes).
        Route("submit", ApiCluster, "/api/quests", HttpMethods.Post, RateLimits.SubmitPolicy),
        Route("v1-generate", ApiCluster, "/v1/images/generations", HttpMethods.Post, RateLimits.SubmitPolicy),
        Route("v1-edit", ApiCluster, "/v1/images/edits", HttpMethods.Post, RateLimits.SubmitPolicy),
        Route("login", ApiCluster, "/api/auth/login", HttpMethods.Post, RateLimits.LoginPolicy),
        Route("register", ApiCluster, "/api/auth/register", HttpMethods.Post, RateLimits.LoginPolicy),
        // The web form's sign-in and sign-up spend the same allowance as the API's.
        Route("web-login", WebCluster, "/account/login", HttpMethods.Post, RateLimits.LoginPolicy),
        Route("web-register", WebCluster, "/account/register", HttpMethods.Post, RateLimits.LoginPolicy),
        Route("api", ApiCluster, "/api/{**rest}"),
        // The OpenAI-compatible surface: OpenAI SDKs with only the base URL changed.
        Route("v1", ApiCluster, "/v1/{**rest}"),
        // The OpenAPI document and its interactive reference.
        Route("openapi", ApiCluster, "/openapi/{**rest}"),
        Route("docs", ApiCluster, "/docs/{**rest}"),
        Route("hubs", ApiCluster, "/hubs/{**rest}") with { RateLimiterPolicy = RateLimits.HubPolicy },
        Route("images", ApiCluster, "/images/{**rest}") with { RateLimiterPolicy = RateLimits.ImagePolicy },
        // Lowest precedence: anything the routes above do not claim.
        Route("web", WebCluster, "{**rest}") with { Order = int.MaxValue },
    ];

    /// <summary>
    /// The cookie that keeps a browser on the web instance holding its Blazor circuit (a hash of that instance's
    /// destination, the same on every gateway): the circuit's reconnects and the page's requests reach the instance
    /// whose memory holds it.
    /// </summary>
    public const string WebAffinityCookie = ".ImageGen.Web";

    /// <summary>
    /// The API (one service address; its hub needs no affinity: clients connect with WebSockets alone) and the web, one
    /// destination per instance: the addresses in <c>Gateway:WebDestinations</c> (service names; "http://web" when
    /// unset), or, with <c>Gateway:WebPods</c> set, every address its host name resolves to (<see cref="WebPodDestinations"/>).
    /// </summary>
    public static IReadOnlyList<ClusterConfig> Clusters(IReadOnlyList<string> webDestinations) =>
    [
        Cluster(ApiCluster, new Dictionary<string, DestinationConfig> { ["api"] = new() { Address = "http://api" } }),
        Cluster(WebCluster, webDestinations.Select((address, i) => (address, i))
            .ToDictionary(d => $"web-{d.i + 1}", d => new DestinationConfig { Address = d.address })) with
        {
            LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin,
            SessionAffinity = new SessionAffinityConfig
            {
                Enabled = true,
                Policy = SessionAffinityConstants.Policies.HashCookie,
                // An instance gone (scaled in, restarted): the browser goes on with another, which starts it a new circuit.
                FailurePolicy = SessionAffinityConstants.FailurePolicies.Redistribute,
                AffinityKeyName = WebAffinityCookie,
                Cookie = new SessionAffinityCookieConfig
                {
                    HttpOnly = true,
                    IsEssential = true,
                    SameSite = SameSiteMode.Lax,
                    SecurePolicy = CookieSecurePolicy.SameAsRequest,
                },
            },
        },
    ];

    public static void AddGateway(this IHostApplicationBuilder builder)
    {
        var webDestinations = builder.Configuration.GetSection("Gateway:WebDestinations").Get<string[]>() is { Length: > 0 } configured ? configured : ["http://web"];
        builder.Services.AddReverseProxy()
            .LoadFromMemory(Routes, Clusters(webDestinations))
            .AddServiceDiscoveryDestinationResolver();
        if (builder.Configuration["Gateway:WebPods"] is { Length: > 0 } pods)
        {
            builder.Services.AddSingleton(new WebPodsOptions(new Uri(pods)));
            builder.Services.AddHostedService<WebPodDestinations>();
        }
    }

    private static RouteConfig Route(string id, string cluster, string path) =>
        new() { RouteId = id, ClusterId = cluster, Match = new RouteMatch { Path = path } };

    private static RouteConfig Route(string id, string cluster, string path, string method, string rateLimiterPolicy) =>
        new()
        {
            RouteId = id,
            ClusterId = cluster,
            Order = -1,
            RateLimiterPolicy = rateLimiterPolicy,
            Match = new RouteMatch { Path = path, Methods = [method] },
        };

    public static ClusterConfig Cluster(string id, IReadOnlyDictionary<string, DestinationConfig> destinations) =>
        new() { ClusterId = id, Destinations = destinations };
}
