using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;
using ImageGen.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Worker.Services;

/// <summary>
/// Postgres is the truth; this makes the queue agree with it. Every interval, one worker (holding a short Redis lease)
/// looks for quests that are queued but no worker took (Redis may have lost the entry), running under a lease that
/// lapsed (the worker died), or queued past the queue deadline, and re-queues or times them out. Old idempotency keys
/// go too.
/// </summary>
internal sealed partial class Reconciler(
    IConnectionMultiplexer redis,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ImageGenMetrics metrics,
    ILogger<Reconciler> logger) : BackgroundService
{
    private const int BatchSize = 500;
    private static readonly TimeSpan IdempotencyKeyRetention = TimeSpan.FromHours(48);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.ReconcileInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await ReadQueueAsync();

                    // One reconciler at a time across replicas: the lease outlives a pass, and lapses if its holder dies.
                    if (await redis.GetDatabase().StringSetAsync(QueueNames.ReconcilerLease, settings.ConsumerName, settings.ReconcileInterval, When.NotExists))
                    {
                        await ReconcileAsync(stoppingToken);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The queue's depth and entries in flight, for the metrics (every worker reports what it read).</summary>
    private async Task ReadQueueAsync()
    {
        var groups = await redis.GetDatabase().StreamGroupInfoAsync(QueueNames.QuestStream);
        if (groups.FirstOrDefault(g => g.Name == QueueNames.WorkerGroup) is { Name: not null } group)
        {
            metrics.QueueRead(group.Lag ?? 0, group.PendingMessageCount);
        }
    }

    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var transitions = scope.ServiceProvider.GetRequiredService<QuestTransitions>();
        var processor = scope.ServiceProvider.GetRequiredService<QuestProcessor>();
        var queue = scope.ServiceProvider.GetRequiredService<QuestQueue>();

        // Queued too long since submit: it will not be served in reasonable time; end it and give the credits back.
        var overdue = await transitions.OverdueAsync(now - settings.QueueDeadline, BatchSize, cancellationToken);
        foreach (var id in overdue)
        {
            await processor.EndUnfinishedAsync(id, QuestStatus.TimedOut, ErrorCodes.TimedOut, FailureExplanations.QueueDeadline(settings.QueueDeadline));
        }

        // Running under a lapsed lease: its worker died. Back to the queue, dated so the next step sends it at once.
        var lapsed = await transitions.RequeueLapsedAsync(now - settings.RequeueAfter, cancellationToken);

        // Queued, and not taken for a while: the entry may be gone (Redis lost its data, or was down when the quest was
        // submitted). Send it again; a duplicate is harmless, since a worker must claim the quest in Postgres to run it.
        var stale = await transitions.TakeStaleQueuedAsync(now - settings.RequeueAfter, BatchSize, cancellationToken);
        foreach (var id in stale)
        {
            await queue.EnqueueAsync(id);
        }

        var keyCutoff = now - IdempotencyKeyRetention;
        await scope.ServiceProvider.GetRequiredService<ImageGenDbContext>().IdempotencyKeys.Where(k => k.CreatedAt < keyCutoff).ExecuteDeleteAsync(cancellationToken);

        if (overdue.Count + lapsed + stale.Count > 0)
        {
            LogReconciled(logger, overdue.Count, lapsed, stale.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciled: {TimedOut} timed out in the queue, {Lapsed} taken back from dead workers, {Requeued} re-queued")]
    private static partial void LogReconciled(ILogger logger, int timedOut, int lapsed, int requeued);

    [LoggerMessage(Level = LogLevel.Error, Message = "A reconcile pass failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
