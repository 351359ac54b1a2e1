using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using ImageGen.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace ImageGen.Api.Limits;

/// <summary>Limits per signed-in user, whatever credential carries the request. Bound from <c>RateLimits</c>.</summary>
public sealed class UserRateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Quest submissions a user may make per minute, once the burst is spent.</summary>
    [Range(1, 1_000_000)]
    public int SubmitsPerMinute { get; set; } = 60;

    [Range(1, 1_000_000)]
    public int SubmitBurst { get; set; } = 60;
}

/// <summary>
/// Submit limits belong to the user, not to a credential or its spelling: the partition is the authenticated user id,
/// so an access token, a refreshed one and every API key of one account draw on one bucket. The bucket lives in Redis,
/// so every API instance shares it. (The gateway keeps per-address limits for everyone in front of this.)
/// </summary>
internal static class UserRateLimits
{
    public const string SubmitPolicy = "user-submit";

    public static void AddUserRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<UserRateLimitOptions>().BindConfiguration(UserRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(SubmitPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<UserRateLimitOptions>>().Value;
                var redis = context.RequestServices.GetRequiredService<IConnectionMultiplexer>();
                // Authorization ran first: only signed-in callers get here.
                var user = context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
                return RedisRateLimitPartition.GetTokenBucketRateLimiter($"imagegen:limits:submit:{user}", _ => new RedisTokenBucketRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => redis,
                    TokenLimit = options.SubmitBurst,
                    TokensPerPeriod = 1,
                    ReplenishmentPeriod = Refill(options),
                });
            });
            limiter.OnRejected = (rejected, _) =>
                RateLimitProblem.WriteAsync(rejected, Refill(rejected.HttpContext.RequestServices.GetRequiredService<IOptions<UserRateLimitOptions>>().Value));
        });
    }

    private static TimeSpan Refill(UserRateLimitOptions options) => TimeSpan.FromMinutes(1) / options.SubmitsPerMinute;
}
