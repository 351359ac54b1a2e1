using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ImageGen.Gateway;

/// <summary>
/// At most <see cref="RateLimitOptions.SignupsPerDay"/> new accounts per address in 24 hours, through the API or the web
/// form alike, so free credits cannot be farmed by script. Only sign-ups that succeeded count (a person who mistyped a
/// password keeps their allowance). Kept in this gateway's memory: with several gateways, each keeps its own count.
/// </summary>
internal sealed class SignupCap(IOptions<RateLimitOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromDays(1);
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _signups = new();

    public static bool IsSignup(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.Value is "/api/auth/register" or "/account/register";

    /// <summary>Refuses a sign-up over the cap; otherwise passes it on and counts it if it opened an account.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var address = RateLimits.AddressKey(context);
        if (Count(address) >= options.Value.SignupsPerDay)
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = ((int)Window.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many new accounts.",
                    Detail = $"At most {options.Value.SignupsPerDay} accounts can be opened from one address in a day.",
                    Extensions = { ["code"] = "signup_limit" },
                },
            });
            return;
        }

        await next(context);
        // The API answers 201; the web form redirects home (a failed one goes back to the form).
        var opened = context.Response.StatusCode == StatusCodes.Status201Created
            || (context.Response.StatusCode == StatusCodes.Status302Found && context.Response.Headers.Location == "/");
        if (opened)
        {
            var signups = _signups.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
            lock (signups)
            {
                signups.Enqueue(time.GetUtcNow());
            }
        }
    }

    private int Count(string address)
    {
        if (!_signups.TryGetValue(address, out var signups))
        {
            return 0;
        }

        lock (signups)
        {
            var since = time.GetUtcNow() - Window;
            while (signups.TryPeek(out var at) && at < since)
            {
                signups.Dequeue();
            }

            if (signups.Count == 0)
            {
                _signups.TryRemove(new KeyValuePair<string, Queue<DateTimeOffset>>(address, signups));
            }

            return signups.Count;
        }
    }
}
