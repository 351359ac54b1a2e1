using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using ImageGen.ServiceDefaults;
using ImageGen.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace ImageGen.Gateway;

/// <summary>
/// Per-address limits at the public entry, for everyone (signed in or not). The API limits each endpoint on top (per
/// user, or per address when no one is signed in, and the daily sign-up cap), so neither another credential nor
/// another spelling of one gets around them.
/// Bound from the <c>RateLimits</c> section.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Quest submissions per minute from one address, whoever sends them (an office behind one address shares it).</summary>
    [Range(1, 1_000_000)]
    public int AddressSubmitsPerMinute { get; set; } = 300;

    [Range(1, 1_000_000)]
    public int AddressSubmitBurst { get; set; } = 120;

    /// <summary>Sign-in and sign-up attempts per minute from one address, through the API or the web form: slows password guessing.</summary>
    [Range(1, 1_000_000)]
    public int LoginsPerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int LoginBurst { get; set; } = 10;

    /// <summary>Image reads per minute from one address (each may cost a resize).</summary>
    [Range(1, 1_000_000)]
    public int ImagesPerMinute { get; set; } = 1200;

    [Range(1, 1_000_000)]
    public int ImageBurst { get; set; } = 300;

    /// <summary>New hub connections per minute from one address.</summary>
    [Range(1, 1_000_000)]
    public int HubConnectsPerMinute { get; set; } = 60;

    [Range(1, 1_000_000)]
    public int HubConnectBurst { get; set; } = 30;
}

internal static class RateLimits
{
    public const string SubmitPolicy = "submit";
    public const string LoginPolicy = "login";
    public const string ImagePolicy = "images";
    public const string HubPolicy = "hubs";

    public static void AddGatewayRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddRedisClient("redis");
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(SubmitPolicy, context => Bucket(context, "submit", o => (o.AddressSubmitBurst, o.AddressSubmitsPerMinute)));
            limiter.AddPolicy(LoginPolicy, context => Bucket(context, "login", o => (o.LoginBurst, o.LoginsPerMinute)));
            limiter.AddPolicy(ImagePolicy, context => Bucket(context, "images", o => (o.ImageBurst, o.ImagesPerMinute)));
            limiter.AddPolicy(HubPolicy, context => Bucket(context, "hubs", o => (o.HubConnectBurst, o.HubConnectsPerMinute)));
            // A token comes back every minute / rate; the limiter says when where it can.
            limiter.OnRejected = (rejected, _) => RateLimitProblem.WriteAsync(rejected, TimeSpan.FromSeconds(6));
        });
    }

    /// <summary>
    /// A token bucket per address (an IPv6 caller by its /64) in Redis: one atomic step checks and takes a token, and
    /// every gateway instance draws on the same bucket, so N gateways do not allow N times as much and a restart does
    /// not reset it. The policy comes from the route the request matched (YARP's routes go through routing, so every
    /// spelling of a path that reaches a route is held by its limit).
    /// </summary>
    private static RateLimitPartition<string> Bucket(HttpContext context, string policy, Func<RateLimitOptions, (int Burst, int PerMinute)> pick)
    {
        var (burst, perMinute) = pick(context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value);
        var redis = context.RequestServices.GetRequiredService<IConnectionMultiplexer>();
        // Resolved now: a partition outlives the request that made it.
        var log = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ImageGen.Gateway.RateLimits");
        return FailOpenLimiter.Around(RedisRateLimitPartition.GetTokenBucketRateLimiter($"imagegen:limits:gateway:{policy}:{AddressKey(context)}",
            _ => new RedisTokenBucketRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                TokenLimit = burst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            }), e => FailOpenLog.LimitUnreachable(log, e));
    }

    /// <summary>The caller as the gateway sees it (it is the public entry: the peer's own address), grouped as limits count it.</summary>
    public static string AddressKey(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address
            ? ClientAddress.Group(address, context.RequestServices.GetRequiredService<IOptions<ClientAddressOptions>>().Value.Ipv6PrefixLength)
            : "unknown";
}
