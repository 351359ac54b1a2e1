using System.Threading.RateLimiting;
using ImageGen.ServiceDefaults.RateLimiting;

namespace ImageGen.Tests.Unit;

/// <summary>A limit whose counters cannot be reached lets the request through instead of failing it; a reachable one still limits.</summary>
public sealed class FailOpenLimiterTests
{
    [Fact]
    public async Task An_unreachable_counter_lets_the_request_through_and_a_working_one_still_refuses()
    {
        var told = new List<Exception>();
        using var broken = new FailOpenLimiter(new Unreachable(), told.Add);
        using (var lease = await broken.AcquireAsync(1, TestContext.Current.CancellationToken))
        {
            Assert.True(lease.IsAcquired);
        }

        // The operator is told each time (the services log a warning).
        Assert.Single(told);

        using var working = new FailOpenLimiter(new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 1, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromHours(1), QueueLimit = 0, AutoReplenishment = false,
        }));
        using (var first = await working.AcquireAsync(1, TestContext.Current.CancellationToken))
        {
            Assert.True(first.IsAcquired);
        }

        using var second = await working.AcquireAsync(1, TestContext.Current.CancellationToken);
        Assert.False(second.IsAcquired);
    }

    private sealed class Unreachable : RateLimiter
    {
        public override TimeSpan? IdleDuration => null;

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => throw new InvalidOperationException("No connection is active/available.");

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No connection is active/available.");
    }
}
