using System.Globalization;
using ImageGen.Core.Accounts;
using ImageGen.Core.Catalog;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Api.Operations;

/// <summary>Thresholds of the alert conditions (defaults: the troubleshooting guide's), and how often they are checked.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The sliding window the rates and averages are taken over.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Fewer finished quests (or hub connections) than this in the window say nothing.</summary>
    public int MinSamples { get; set; } = 10;

    public double SuccessRateBelow { get; set; } = 0.95;
    public double ErrorRateAbove { get; set; } = 0.05;
    public double GenerationSecondsAbove { get; set; } = 60;
    public double DisconnectRateAbove { get; set; } = 0.01;

    /// <summary>A user's last-hour spend above this many times their usual hourly spend (over the past week)...</summary>
    public double SpendFactor { get; set; } = 10;

    /// <summary>...and above this many credits.</summary>
    public int SpendMinCredits { get; set; } = 50;
}

/// <summary>
/// Checks the alert conditions over a sliding window, in one API instance at a time (a Redis lease), and stores what
/// fires and what resolves. Quest figures come from Postgres, hub figures from per-minute counters in Redis.
/// </summary>
internal sealed partial class AlertEvaluator(
    IServiceScopeFactory scopes, IConnectionMultiplexer redis, IOptions<AlertOptions> options, TimeProvider time, ModelCatalog catalog,
    AlertNotifier notifier, ILogger<AlertEvaluator> logger)
    : BackgroundService
{
    private const string LeaseKey = "alerts:evaluator";

    /// <summary>An alert as the admin API shows it (a query projection, translated to SQL).</summary>
    public static readonly System.Linq.Expressions.Expression<Func<Alert, AlertDto>> ToDto =
        a => new AlertDto(a.Id, a.Key, a.Kind, a.Message, a.Value, a.Threshold, a.FiredAt, a.ResolvedAt);
    private readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        do
        {
            try
            {
                if (await HoldLeaseAsync())
                {
                    await EvaluateAsync(stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Postgres or Redis down: the next tick tries again.
                LogEvaluationFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<bool> HoldLeaseAsync()
    {
        var db = redis.GetDatabase();
        var ttl = options.Value.Interval * 3;
        if (await db.StringGetAsync(LeaseKey) == _instance)
        {
            return await db.KeyExpireAsync(LeaseKey, ttl);
        }

        return await db.StringSetAsync(LeaseKey, _instance, ttl, When.NotExists);
    }

    /// <summary>One pass: measure every condition, then fire, update or resolve.</summary>
    internal async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
        var o = options.Value;
        var now = time.GetUtcNow();
        var measured = new List<Measurement>();
        await MeasureQuestsAsync(db, now - o.Window, measured, cancellationToken);
        await MeasureProviderAccountsAsync(db, now - o.Window, measured, cancellationToken);
        await MeasureHubAsync(now, measured);
        await MeasureSpendAsync(db, now, measured, cancellationToken);

        var active = await db.Alerts.Where(a => a.ResolvedAt == null).ToDictionaryAsync(a => a.Key, cancellationToken);
        // What the channels may be told: every active alert, and every measured condition, firing or not.
        var states = active.Values.ToDictionary(a => a.Key, a => (Firing: true, a.Message));
        foreach (var m in measured)
        {
            // A resolve repeats what the alert said when it fired.
            states[m.Key] = (m.Firing, !m.Firing && active.TryGetValue(m.Key, out var known) ? known.Message : m.Message);
            if (active.TryGetValue(m.Key, out var alert))
            {
                if (m.Firing)
                {
                    alert.Value = m.Value;
                }
                else
                {
                    alert.ResolvedAt = now;
                    LogResolved(logger, m.Key, m.Value, m.Threshold);
                }
            }
            else if (m.Firing)
            {
                db.Alerts.Add(new Alert { Key = m.Key, Kind = m.Kind, Message = m.Message, Value = m.Value, Threshold = m.Threshold, FiredAt = now });
                LogFired(logger, m.Key, m.Message);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await notifier.QueueAsync(db, states, now, cancellationToken);
    }

    private sealed record Measurement(string Key, string Kind, bool Firing, double Value, double Threshold, string Message);

    private async Task MeasureQuestsAsync(ImageGenDbContext db, DateTimeOffset since, List<Measurement> measured, CancellationToken cancellationToken)
    {
        var o = options.Value;
        // Cancelled quests say nothing about health.
        var rows = await db.Quests.AsNoTracking()
            .Where(q => q.CompletedAt >= since && q.Status != QuestStatus.Cancelled)
            .GroupBy(q => new { q.Model, q.Status })
            .Select(g => new { g.Key.Model, g.Key.Status, Count = g.Count(), GenerationMs = g.Sum(q => (long?)q.GenerationMilliseconds) ?? 0 })
            .ToListAsync(cancellationToken);
        var byProvider = rows.GroupBy(r => catalog.ProviderTag(r.Model));
        var total = 0;
        var failed = 0;
        foreach (var provider in byProvider)
        {
            var count = provider.Sum(r => r.Count);
            var succeeded = provider.Where(r => r.Status == QuestStatus.Succeeded).ToList();
            var succeededCount = succeeded.Sum(r => r.Count);
            total += count;
            failed += count - succeededCount;
            if (count < o.MinSamples)
            {
                continue;
            }

            var rate = (double)succeededCount / count;
            measured.Add(new Measurement($"{AlertKinds.SuccessRate}:{provider.Key}", AlertKinds.SuccessRate, rate < o.SuccessRateBelow, rate, o.SuccessRateBelow,
                string.Create(CultureInfo.InvariantCulture, $"{provider.Key}: {rate:P0} of {count} quests succeeded in the last {Minutes(o.Window)} (alert below {o.SuccessRateBelow:P0}).")));
            if (succeededCount > 0)
            {
                var average = succeeded.Sum(r => r.GenerationMs) / 1000.0 / succeededCount;
                measured.Add(new Measurement($"{AlertKinds.GenerationTime}:{provider.Key}", AlertKinds.GenerationTime, average > o.GenerationSecondsAbove, average,
                    o.GenerationSecondsAbove,
                    string.Create(CultureInfo.InvariantCulture, $"{provider.Key}: generation takes {average:0.0} s on average (alert above {o.GenerationSecondsAbove:0} s).")));
            }
        }

        if (total >= o.MinSamples)
        {
            var rate = (double)failed / total;
            measured.Add(new Measurement(AlertKinds.ErrorRate, AlertKinds.ErrorRate, rate > o.ErrorRateAbove, rate, o.ErrorRateAbove,
                string.Create(CultureInfo.InvariantCulture, $"{rate:P1} of {total} quests failed or timed out in the last {Minutes(o.Window)} (alert above {o.ErrorRateAbove:P0}).")));
        }
    }

    /// <summary>
    /// One quest refused for an exhausted provider account is enough: every quest on that provider will fail until
    /// someone tops the account up. Measured for every provider, so the alert resolves once none failed so in the window.
    /// </summary>
    private async Task MeasureProviderAccountsAsync(ImageGenDbContext db, DateTimeOffset since, List<Measurement> measured, CancellationToken cancellationToken)
    {
        var failed = await db.Quests.AsNoTracking()
            .Where(q => q.CompletedAt >= since && q.ErrorCode == ErrorCodes.ProviderAccountExhausted)
            .GroupBy(q => q.Model).Select(g => new { Model = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        foreach (var provider in catalog.All.Select(m => m.Provider).Distinct())
        {
            var tag = provider.ToString().ToLowerInvariant();
            var count = failed.Where(f => catalog.ProviderTag(f.Model) == tag).Sum(f => f.Count);
            measured.Add(new Measurement($"{AlertKinds.ProviderAccount}:{tag}", AlertKinds.ProviderAccount, count > 0, count, 0,
                string.Create(CultureInfo.InvariantCulture,
                    $"The {provider} account ImageGen uses has run out of credit or quota: {count} quests failed for it in the last {Minutes(options.Value.Window)}. Top it up in the provider's billing settings.")));
        }
    }

    private async Task MeasureHubAsync(DateTimeOffset now, List<Measurement> measured)
    {
        var o = options.Value;
        var (connects, drops) = await HubStats.SumAsync(redis, now - o.Window, now);
        if (connects < o.MinSamples)
        {
            return;
        }

        var rate = (double)drops / connects;
        measured.Add(new Measurement(AlertKinds.DisconnectRate, AlertKinds.DisconnectRate, rate > o.DisconnectRateAbove, rate, o.DisconnectRateAbove,
            string.Create(CultureInfo.InvariantCulture, $"{drops} of {connects} live-update connections dropped in the last {Minutes(o.Window)} ({rate:P1}; alert above {o.DisconnectRateAbove:P0}).")));
    }

    private async Task MeasureSpendAsync(ImageGenDbContext db, DateTimeOffset now, List<Measurement> measured, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var hourAgo = now.AddHours(-1);
        var weekAgo = now.AddDays(-7);
        var spenders = await db.CreditEntries.AsNoTracking()
            .Where(e => e.Kind == CreditEntryKind.Reserve && e.CreatedAt >= hourAgo)
            .GroupBy(e => e.UserId)
            .Select(g => new { UserId = g.Key, Spent = -g.Sum(e => e.Amount) })
            .Where(s => s.Spent >= o.SpendMinCredits)
            .ToListAsync(cancellationToken);
        if (spenders.Count == 0)
        {
            // Active spend alerts of users who calmed down resolve here too.
            foreach (var key in await db.Alerts.Where(a => a.ResolvedAt == null && a.Kind == AlertKinds.CreditSpend).Select(a => a.Key)
                         .ToListAsync(cancellationToken))
            {
                measured.Add(new Measurement(key, AlertKinds.CreditSpend, false, 0, o.SpendFactor, ""));
            }

            return;
        }

        var ids = spenders.Select(s => s.UserId).ToList();
        var before = await db.CreditEntries.AsNoTracking()
            .Where(e => e.Kind == CreditEntryKind.Reserve && ids.Contains(e.UserId) && e.CreatedAt >= weekAgo && e.CreatedAt < hourAgo)
            .GroupBy(e => e.UserId)
            .Select(g => new { UserId = g.Key, Spent = -g.Sum(e => e.Amount) })
            .ToDictionaryAsync(s => s.UserId, s => s.Spent, cancellationToken);
        foreach (var spender in spenders)
        {
            // The usual hourly spend over the past week; at least one credit, so a new account's first burst counts.
            var usual = Math.Max(1.0, before.GetValueOrDefault(spender.UserId) / (7.0 * 24));
            var factor = spender.Spent / usual;
            measured.Add(new Measurement($"{AlertKinds.CreditSpend}:{spender.UserId:N}", AlertKinds.CreditSpend, factor > o.SpendFactor, factor, o.SpendFactor,
                string.Create(CultureInfo.InvariantCulture, $"User {spender.UserId} spent {spender.Spent} credits in the last hour, {factor:0} times their usual hourly spend ({usual:0.#}).")));
        }
    }

    private static string Minutes(TimeSpan window) =>
        window.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{window.TotalMinutes:0} min") : string.Create(CultureInfo.InvariantCulture, $"{window.TotalSeconds:0} s");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {AlertKey} fired: {AlertMessage}")]
    private static partial void LogFired(ILogger logger, string alertKey, string alertMessage);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {AlertKey} resolved: {Value} against threshold {Threshold}")]
    private static partial void LogResolved(ILogger logger, string alertKey, double value, double threshold);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert evaluation failed; trying again at the next interval")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception exception);
}

/// <summary>Per-minute counts of hub connections and of those that dropped, in Redis, shared by every API instance.</summary>
internal static class HubStats
{
    private static readonly TimeSpan Keep = TimeSpan.FromDays(2);

    private static RedisKey Key(string what, long minute) => $"hub:{what}:{minute.ToString(CultureInfo.InvariantCulture)}";

    public static void Count(IConnectionMultiplexer redis, DateTimeOffset at, bool dropped)
    {
        var minute = at.ToUnixTimeSeconds() / 60;
        var db = redis.GetDatabase();
        var key = Key(dropped ? "drops" : "connects", minute);
        _ = db.StringIncrementAsync(key, flags: CommandFlags.FireAndForget);
        _ = db.KeyExpireAsync(key, Keep, flags: CommandFlags.FireAndForget);
    }

    public static async Task<(long Connects, long Drops)> SumAsync(IConnectionMultiplexer redis, DateTimeOffset from, DateTimeOffset to)
    {
        var first = from.ToUnixTimeSeconds() / 60;
        var last = to.ToUnixTimeSeconds() / 60;
        var minutes = Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i).ToArray();
        var db = redis.GetDatabase();
        var connects = await db.StringGetAsync([.. minutes.Select(m => Key("connects", m))]);
        var drops = await db.StringGetAsync([.. minutes.Select(m => Key("drops", m))]);
        return (connects.Sum(v => v.HasValue ? (long)v : 0), drops.Sum(v => v.HasValue ? (long)v : 0));
    }
}
