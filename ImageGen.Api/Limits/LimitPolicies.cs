using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Threading.RateLimiting;
using ImageGen.ServiceDefaults;
using ImageGen.ServiceDefaults.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace ImageGen.Api.Limits;

/// <summary>The API's limits, bound from <c>RateLimits</c> (the gateway binds the per-address ones from the same section).</summary>
public sealed class LimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Quest submissions (and uploads) a user may make per minute, once the burst is spent.</summary>
    [Range(1, 1_000_000)]
    public int SubmitsPerMinute { get; set; } = 60;

    [Range(1, 1_000_000)]
    public int SubmitBurst { get; set; } = 60;

    /// <summary>Reads per minute of one signed-in user (any credential), or of one address when no one is signed in.</summary>
    [Range(1, 10_000_000)]
    public int ReadsPerMinute { get; set; } = 1200;

    [Range(1, 10_000_000)]
    public int ReadBurst { get; set; } = 300;

    /// <summary>Changes per minute of one user that are not submits (keys, webhooks, cancels, deletes, grants).</summary>
    [Range(1, 1_000_000)]
    public int WritesPerMinute { get; set; } = 120;

    [Range(1, 1_000_000)]
    public int WriteBurst { get; set; } = 60;

    /// <summary>Image reads per minute of one user, or of one address for signed links (each may cost a resize).</summary>
    [Range(1, 10_000_000)]
    public int ImagesPerMinute { get; set; } = 1200;

    [Range(1, 10_000_000)]
    public int ImageBurst { get; set; } = 300;

    /// <summary>Shared-link reads per minute from one address (no account is asked, so guessing tokens is slow).</summary>
    [Range(1, 10_000_000)]
    public int SharedPerMinute { get; set; } = 120;

    [Range(1, 10_000_000)]
    public int SharedBurst { get; set; } = 60;

    /// <summary>Sign-in, sign-up, token and password attempts per minute from one address.</summary>
    [Range(1, 1_000_000)]
    public int LoginsPerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int LoginBurst { get; set; } = 10;

    /// <summary>New accounts one address may open in 24 hours.</summary>
    [Range(1, 1_000_000)]
    public int SignupsPerDay { get; set; } = 5;

    /// <summary>Messages of one kind (verification, password reset) to one email address in an hour.</summary>
    [Range(1, 1_000)]
    public int MailsPerEmailPerHour { get; set; } = 3;

    /// <summary>New hub connections per minute of one user.</summary>
    [Range(1, 1_000_000)]
    public int HubConnectsPerMinute { get; set; } = 60;

    [Range(1, 1_000_000)]
    public int HubConnectBurst { get; set; } = 30;

    /// <summary>Hub connections one user may hold open at once, on every API instance together.</summary>
    [Range(1, 100_000)]
    public int HubConnectionsPerUser { get; set; } = 20;

    /// <summary>Hub method calls per minute of one connection, and of one user over all their connections.</summary>
    [Range(1, 10_000_000)]
    public int HubCallsPerMinute { get; set; } = 600;

    [Range(1, 10_000_000)]
    public int HubCallBurst { get; set; } = 120;
}

/// <summary>
/// Every API endpoint declares one of these policies as endpoint metadata (<c>RequireRateLimiting</c>), so the limit is
/// judged on the endpoint routing matched, never on the path's spelling; <c>LimitPolicyTests</c> walks the endpoint table
/// and fails for an endpoint (or hub method) without one. The counters are token buckets in Redis (RedisRateLimiting:
/// one script checks and takes a token atomically), so parallel requests cannot pass together, every API instance
/// shares them, and a restart does not reset them. Signed-in callers are counted per user (every credential of an
/// account draws on one bucket); anonymous ones per address, IPv6 grouped by its /64.
/// </summary>
internal static class LimitPolicies
{
    public const string Submit = "submit";
    public const string Read = "read";
    public const string Write = "write";
    public const string Images = "images";
    public const string Shared = "shared";
    public const string Account = "account";
    public const string HubConnect = "hub-connect";

    /// <summary>The policies an endpoint may name; the hub's methods are limited by <see cref="Hubs.HubCallLimits"/>.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string> { Submit, Read, Write, Images, Shared, Account, HubConnect };

    public static void AddLimitPolicies(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Submit, context => Bucket(context, Submit, byUser: true, o => (o.SubmitBurst, o.SubmitsPerMinute)));
            limiter.AddPolicy(Read, context => Bucket(context, Read, byUser: true, o => (o.ReadBurst, o.ReadsPerMinute)));
            limiter.AddPolicy(Write, context => Bucket(context, Write, byUser: true, o => (o.WriteBurst, o.WritesPerMinute)));
            limiter.AddPolicy(Images, context => Bucket(context, Images, byUser: true, o => (o.ImageBurst, o.ImagesPerMinute)));
            limiter.AddPolicy(Shared, context => Bucket(context, Shared, byUser: false, o => (o.SharedBurst, o.SharedPerMinute)));
            limiter.AddPolicy(Account, context => Bucket(context, Account, byUser: false, o => (o.LoginBurst, o.LoginsPerMinute)));
            limiter.AddPolicy(HubConnect, context => Bucket(context, HubConnect, byUser: true, o => (o.HubConnectBurst, o.HubConnectsPerMinute)));
            limiter.OnRejected = (rejected, _) => RateLimitProblem.WriteAsync(rejected, TimeSpan.FromSeconds(1));
        });
    }

    /// <summary>The policy the rate limiter applies to an endpoint (its last declaration), or null when it declares none.</summary>
    public static string? Of(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null ? null : endpoint.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;

    /// <summary>The caller a bucket belongs to: the signed-in user, or else the address (an IPv6 caller by its /64).</summary>
    public static string Caller(HttpContext context, bool byUser) =>
        byUser && context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } user ? "user:" + user : "address:" + ClientAddress.LimitKey(context);

    private static RateLimitPartition<string> Bucket(HttpContext context, string policy, bool byUser, Func<LimitOptions, (int Burst, int PerMinute)> pick)
    {
        var (burst, perMinute) = pick(context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value);
        var redis = context.RequestServices.GetRequiredService<IConnectionMultiplexer>();
        // Resolved now: a partition outlives the request that made it.
        var log = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ImageGen.Api.Limits");
        return FailOpenLimiter.Around(RedisRateLimitPartition.GetTokenBucketRateLimiter($"imagegen:limits:{policy}:{Caller(context, byUser)}",
            _ => new RedisTokenBucketRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                TokenLimit = burst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            }), e => FailOpenLog.LimitUnreachable(log, e));
    }
}
