using System.Threading.RateLimiting;

namespace ImageGen.ServiceDefaults.RateLimiting;

/// <summary>
/// A limiter whose counters live elsewhere (Redis) and that lets a request through when it cannot reach them: a Redis
/// that is starting, failing over or gone would otherwise turn every limited request into a 500. While Redis is away,
/// what the limits protect is mostly away too (sessions, the queue); the health checks say so, and the limits hold
/// again as soon as it answers.
/// </summary>
public sealed class FailOpenLimiter(RateLimiter inner, Action<Exception>? unreachable = null) : RateLimiter
{
    public override TimeSpan? IdleDuration => inner.IdleDuration;

    /// <summary>The same partition, failing open (and telling <paramref name="unreachable"/> each time): for a partitioned limiter's factory.</summary>
    public static RateLimitPartition<TKey> Around<TKey>(RateLimitPartition<TKey> partition, Action<Exception>? unreachable = null) =>
        RateLimitPartition.Get(partition.PartitionKey, key => new FailOpenLimiter(partition.Factory(key), unreachable));

    public override RateLimiterStatistics? GetStatistics() => inner.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        try
        {
            return inner.AttemptAcquire(permitCount);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ArgumentException)
        {
            unreachable?.Invoke(e);
            return OpenLease.Instance;
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.AcquireAsync(permitCount, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ArgumentException)
        {
            unreachable?.Invoke(e);
            return OpenLease.Instance;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private sealed class OpenLease : RateLimitLease
    {
        public static readonly OpenLease Instance = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}

/// <summary>The warning a service logs when a limit lets a request through because its counters cannot be reached.</summary>
public static partial class FailOpenLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "A rate limit let a request through: its counters could not be reached")]
    public static partial void LimitUnreachable(Microsoft.Extensions.Logging.ILogger logger, Exception exception);
}
