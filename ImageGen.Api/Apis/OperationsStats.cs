using ImageGen.Api.Operations;
using ImageGen.Core.Catalog;
using ImageGen.Core.Operations;
using ImageGen.Data;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

/// <summary>The figures behind the monitoring page, computed in Postgres over the last hour or day.</summary>
internal static class OperationsStats
{
    private const int Buckets = 24;

    // Rows of raw SQL: columns in snake_case, as the context's naming convention maps them.
    private sealed record ModelRow(string Model, int Total, int Succeeded, int Failed, int TimedOut, int Cancelled, double? P50, double? P95);

    private sealed record BucketRow(int Bucket, int Succeeded, int Failed);

    public static async Task<OperationsStatsDto> ComputeAsync(ImageGenDbContext db, ModelCatalog catalog, string window, TimeSpan span, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = now - span;
        var models = await db.Database.SqlQuery<ModelRow>($"""
            SELECT model AS model,
                   count(*)::int AS total,
                   (count(*) FILTER (WHERE status = 'Succeeded'))::int AS succeeded,
                   (count(*) FILTER (WHERE status = 'Failed'))::int AS failed,
                   (count(*) FILTER (WHERE status = 'TimedOut'))::int AS timed_out,
                   (count(*) FILTER (WHERE status = 'Cancelled'))::int AS cancelled,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY generation_milliseconds) FILTER (WHERE status = 'Succeeded') AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY generation_milliseconds) FILTER (WHERE status = 'Succeeded') AS p95
            FROM quests WHERE completed_at >= {since}
            GROUP BY model ORDER BY model
            """).ToListAsync(cancellationToken);

        var bucketSeconds = span.TotalSeconds / Buckets;
        var series = await db.Database.SqlQuery<BucketRow>($"""
            SELECT floor(extract(epoch FROM completed_at - {since}) / {bucketSeconds})::int AS bucket,
                   (count(*) FILTER (WHERE status = 'Succeeded'))::int AS succeeded,
                   (count(*) FILTER (WHERE status IN ('Failed', 'TimedOut')))::int AS failed
            FROM quests WHERE completed_at >= {since}
            GROUP BY 1
            """).ToListAsync(cancellationToken);

        var errors = await db.Quests.AsNoTracking()
            .Where(q => q.CompletedAt >= since && q.ErrorCode != null)
            .GroupBy(q => q.ErrorCode!)
            .Select(g => new ErrorCountDto(g.Key, g.Count()))
            .ToListAsync(cancellationToken);

        var credits = await db.CreditEntries.AsNoTracking()
            .Where(e => e.CreatedAt >= since)
            .GroupBy(e => e.Kind)
            .Select(g => new { Kind = g.Key, Amount = g.Sum(e => (long)e.Amount), Entries = g.Count() })
            .ToListAsync(cancellationToken);

        var alerts = await db.Alerts.AsNoTracking().Where(a => a.ResolvedAt == null).OrderByDescending(a => a.FiredAt)
            .Select(AlertEvaluator.ToDto)
            .ToListAsync(cancellationToken);

        // A quest that ended while these queries ran falls in the last slice.
        var byBucket = series.GroupBy(b => Math.Clamp(b.Bucket, 0, Buckets - 1))
            .ToDictionary(g => g.Key, g => new BucketRow(g.Key, g.Sum(b => b.Succeeded), g.Sum(b => b.Failed)));
        return new OperationsStatsDto(
            window,
            since,
            [.. models.Select(m =>
            {
                var finished = m.Total - m.Cancelled;
                return new ModelStatsDto(m.Model, catalog.TryGet(m.Model, out var d) ? d.Provider.ToString() : catalog.TryGetRetired(m.Model, out var r) ? r.Provider.ToString() : "Unknown",
                    m.Total, m.Succeeded, m.Failed, m.TimedOut, m.Cancelled, finished > 0 ? (double)m.Succeeded / finished : null, m.P50, m.P95);
            })],
            [.. errors.OrderByDescending(e => e.Count)],
            [.. credits.OrderBy(c => c.Kind).Select(c => new CreditFlowDto(c.Kind.ToString().ToLowerInvariant(), c.Amount, c.Entries))],
            [.. Enumerable.Range(0, Buckets).Select(i => byBucket.TryGetValue(i, out var b)
                ? new StatsBucketDto(since.AddSeconds(i * bucketSeconds), b.Succeeded, b.Failed)
                : new StatsBucketDto(since.AddSeconds(i * bucketSeconds), 0, 0))],
            alerts);
    }

    public static bool TryParseWindow(string? window, out string name, out TimeSpan span)
    {
        (name, span) = window switch
        {
            null or "" or "1h" => ("1h", TimeSpan.FromHours(1)),
            "24h" => ("24h", TimeSpan.FromHours(24)),
            _ => ("", TimeSpan.Zero),
        };
        return span > TimeSpan.Zero;
    }
}
