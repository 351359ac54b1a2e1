using Yarp.ReverseProxy.Configuration;

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

    public static IReadOnlyList<ClusterConfig> Clusters { get; } =
    [
        Cluster(ApiCluster, "http://api"),
        Cluster(WebCluster, "http://web"),
    ];

    public static void AddGateway(this IHostApplicationBuilder builder) =>
        builder.Services.AddReverseProxy()
            .LoadFromMemory(Routes, Clusters)
            .AddServiceDiscoveryDestinationResolver();

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

    private static ClusterConfig Cluster(string id, string address) =>
        new()
        {
            ClusterId = id,
            Destinations = new Dictionary<string, DestinationConfig> { ["primary"] = new() { Address = address } },
        };
}
