using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using ImageGen.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.Options;

namespace ImageGen.Gateway;

/// <summary>
/// Per-address limits at the public entry, for everyone (signed in or not). The API limits each signed-in user on top
/// (its own <c>RateLimits</c> settings), so neither another credential nor another spelling of one gets around them.
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

    /// <summary>New accounts one address may open in 24 hours (each comes with free credits).</summary>
    [Range(1, 1_000_000)]
    public int SignupsPerDay { get; set; } = 5;

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
        builder.Services.AddSingleton<SignupCap>();
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

    private static RateLimitPartition<string> Bucket(HttpContext context, string policy, Func<RateLimitOptions, (int Burst, int PerMinute)> pick)
    {
        var (burst, perMinute) = pick(context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value);
        return RateLimitPartition.GetTokenBucketLimiter($"{policy}:{AddressKey(context)}", _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    public static string AddressKey(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
