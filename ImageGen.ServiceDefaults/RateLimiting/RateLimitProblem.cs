using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace ImageGen.ServiceDefaults.RateLimiting;

/// <summary>The one answer to a refused request, wherever the limit sits (the gateway, the API): 429, Retry-After, rate_limited.</summary>
public static class RateLimitProblem
{
    /// <summary>
    /// Writes the problem; the wait is the limiter's own where it says one, else <paramref name="fallback"/> (the time one
    /// token takes to come back).
    /// </summary>
    public static async ValueTask WriteAsync(OnRejectedContext rejected, TimeSpan fallback)
    {
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : fallback;
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        var response = rejected.HttpContext.Response;
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
    }
}
