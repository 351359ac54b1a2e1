using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace ImageGen.Gateway;

/// <summary>Per-caller limits at the public entry. Bound from the <c>RateLimits</c> section.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Quest submissions a caller may make per minute, once the burst is spent.</summary>
    [Range(1, 1_000_000)]
    public int SubmitsPerMinute { get; set; } = 60;

    [Range(1, 1_000_000)]
    public int SubmitBurst { get; set; } = 60;

    /// <summary>Sign-in and sign-up attempts per minute from one address: slows password guessing.</summary>
    [Range(1, 1_000_000)]
    public int LoginsPerMinute { get; set; } = 10;

    [Range(1, 1_000_000)]
    public int LoginBurst { get; set; } = 10;
}

internal static class RateLimits
{
    public const string SubmitPolicy = "submit";
    public const string LoginPolicy = "login";

    public static void AddGatewayRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddRateLimiter(limiter =>
        {
            // Signed-in callers are limited per credential, anonymous ones per address.
            limiter.AddPolicy(SubmitPolicy, context => Bucket(context, CallerKey(context), o => (o.SubmitBurst, o.SubmitsPerMinute)));
            limiter.AddPolicy(LoginPolicy, context => Bucket(context, AddressKey(context), o => (o.LoginBurst, o.LoginsPerMinute)));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var response = rejected.HttpContext.Response;
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests.",
                        Detail = $"Slow down: try again in {seconds} s.",
                        Extensions = { ["code"] = "rate_limited", ["retryAfter"] = seconds },
                    },
                });
            };
        });
    }

    private static RateLimitPartition<string> Bucket(HttpContext context, string key, Func<RateLimitOptions, (int Burst, int PerMinute)> pick)
    {
        var (burst, perMinute) = pick(context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>().Value);
        return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static string CallerKey(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        // The credential itself never becomes a key: only a short hash of it.
        return string.IsNullOrEmpty(authorization)
            ? AddressKey(context)
            : "caller:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(authorization)))[..24];
    }

    private static string AddressKey(HttpContext context) => "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
