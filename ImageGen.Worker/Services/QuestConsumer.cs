using ImageGen.Data.Queue;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Worker.Services;

/// <summary>
/// Reads the quest stream with the workers' consumer group and runs up to <see cref="WorkerOptions.MaxConcurrency"/>
/// quests at once. An entry is acknowledged only after its outcome is stored. Entries another consumer left idle are
/// claimed; an entry delivered more than <see cref="WorkerOptions.MaxDeliveries"/> times is dead-lettered. On
/// shutdown no new entries are read, and in-flight quests get a grace period before they are handed back.
/// </summary>
internal sealed partial class QuestConsumer(
    IConnectionMultiplexer redis,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<QuestConsumer> logger) : BackgroundService
{
    private static readonly ActivitySource Source = new(ServiceDefaultsExtensions.TelemetryName);

    /// <summary>The cancel switch of each quest running here, for owners' cancel requests.</summary>
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var db = redis.GetDatabase();
        await EnsureGroupAsync(db);

        // A wake-up arrives whenever a quest is added; one pending signal is enough.
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Literal(QueueNames.QuestWakeChannel), (_, _) => wake.Writer.TryWrite(true));
        await subscriber.SubscribeAsync(RedisChannel.Literal(QueueNames.CancelChannel), (_, message) =>
        {
            if (Guid.TryParse(message.ToString(), out var questId) && _running.TryGetValue(questId, out var cancel))
            {
                cancel.Cancel();
            }
        });

        // In-flight work outlives the stop signal by the grace period, then is handed back.
        using var letGo = new CancellationTokenSource();
        using var onStop = stoppingToken.Register(() => letGo.CancelAfter(settings.ShutdownGrace));

        using var slots = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
        var inFlight = new ConcurrentDictionary<Task, bool>();
        LogStarted(logger, settings.ConsumerName, settings.MaxConcurrency);

        // An id reads this consumer's own pending entries after it (left by a previous run); ">" reads new ones.
        RedisValue position = "0";
        var nextClaim = time.GetUtcNow();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var count = slots.CurrentCount + 1;
                StreamEntry[] entries;
                var redelivered = position != StreamPosition.NewMessages;
                try
                {
                    if (!redelivered && time.GetUtcNow() >= nextClaim)
                    {
                        // Entries another consumer left idle (it died): take them over.
                        nextClaim = time.GetUtcNow() + (settings.ClaimIdleTime / 4);
                        var claimed = await db.StreamAutoClaimAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, settings.ConsumerName,
                            (long)settings.ClaimIdleTime.TotalMilliseconds, "0-0", count);
                        entries = claimed.ClaimedEntries.Where(e => !e.IsNull).ToArray();
                        redelivered = entries.Length > 0;
                        if (!redelivered)
                        {
                            entries = await db.StreamReadGroupAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, settings.ConsumerName, position, count);
                        }
                    }
                    else
                    {
                        entries = await db.StreamReadGroupAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, settings.ConsumerName, position, count);
                    }
                }
                catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
                {
                    // Redis lost the stream (restart without persistence): create it again and carry on.
                    slots.Release();
                    await EnsureGroupAsync(db);
                    continue;
                }
                catch (Exception e) when (RedisFaults.IsOutage(e))
                {
                    slots.Release();
                    LogReadFailed(logger, e);
                    await Task.Delay(settings.IdlePollInterval, stoppingToken);
                    continue;
                }

                if (entries.Length == 0)
                {
                    slots.Release();
                    if (position != StreamPosition.NewMessages)
                    {
                        position = StreamPosition.NewMessages;
                        continue;
                    }

                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    idle.CancelAfter(settings.IdlePollInterval);
                    try
                    {
                        await wake.Reader.ReadAsync(idle.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                    }

                    continue;
                }

                if (position != StreamPosition.NewMessages)
                {
                    position = entries[^1].Id;
                }

                for (var i = 0; i < entries.Length; i++)
                {
                    // The first slot is already held; the read asked for no more entries than there are free slots.
                    if (i > 0)
                    {
                        await slots.WaitAsync(stoppingToken);
                    }

                    var entry = entries[i];
                    var task = Task.Run(() => HandleAsync(db, entry, redelivered, letGo.Token), CancellationToken.None);
                    inFlight[task] = true;
                    _ = task.ContinueWith(t =>
                    {
                        inFlight.TryRemove(t, out _);
                        slots.Release();
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Stop taking work; let in-flight quests finish within the grace period, then they hand themselves back.
        await Task.WhenAll(inFlight.Keys);
        await subscriber.UnsubscribeAsync(RedisChannel.Literal(QueueNames.QuestWakeChannel));
        await subscriber.UnsubscribeAsync(RedisChannel.Literal(QueueNames.CancelChannel));
    }

    private async Task HandleAsync(IDatabase db, StreamEntry entry, bool redelivered, CancellationToken letGo)
    {
        var settings = options.Value;
        if (!Guid.TryParse(entry[QueueNames.Fields.QuestId].ToString(), out var questId))
        {
            LogMalformedEntry(logger, entry.Id.ToString());
            await DeadLetterAsync(db, entry, null, "malformed", 1);
            return;
        }

        if (redelivered)
        {
            var pending = await db.StreamPendingMessagesAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, 1, settings.ConsumerName, entry.Id, entry.Id);
            var deliveries = pending.Length > 0 ? pending[0].DeliveryCount : 1;
            if (deliveries > settings.MaxDeliveries)
            {
                await GiveUpAsync(db, entry, questId, deliveries - 1);
                return;
            }
        }

        // Continue the trace of the request that submitted the quest.
        ActivityContext.TryParse(entry[QueueNames.Fields.TraceParent], entry[QueueNames.Fields.TraceState], out var parent);
        using var activity = Source.StartActivity("quest.process", ActivityKind.Consumer, parent);
        activity?.SetTag("quest.id", questId);
        activity?.SetTag("messaging.message.id", entry.Id.ToString());

        using var cancel = new CancellationTokenSource();
        if (!_running.TryAdd(questId, cancel))
        {
            // A second entry of a quest this worker is running (the reconciler re-queued it while it waited): the run
            // in hand keeps the quest, and its cancel switch stays the one an owner's cancel reaches.
            await AcknowledgeAsync(db, entry);
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<QuestProcessor>().ProcessAsync(questId, letGo, cancel.Token);
            if (result == ProcessResult.Exhausted)
            {
                await GiveUpAsync(db, entry, questId, settings.MaxDeliveries);
            }
            else
            {
                await AcknowledgeAsync(db, entry);
            }
        }
        catch (Exception e)
        {
            // Not acknowledged: the entry stays pending, is claimed again after it has been idle, and counts a delivery.
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            LogProcessingFailed(logger, questId, e);
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(questId, cancel));
        }
    }

    /// <summary>It failed every time it ran: stop trying, tell the owner, give the credits back, keep it for an operator.</summary>
    private async Task GiveUpAsync(IDatabase db, StreamEntry entry, Guid questId, long attempts)
    {
        await using var scope = scopes.CreateAsyncScope();
        var ended = await scope.ServiceProvider.GetRequiredService<QuestProcessor>().EndUnfinishedAsync(questId, QuestStatus.Failed, ErrorCodes.DeliveryExhausted,
            FailureExplanations.Exhausted(attempts));
        if (!ended)
        {
            // Another entry of the same quest got here first (or it ended meanwhile): one dead letter per quest is enough.
            await AcknowledgeAsync(db, entry);
            return;
        }

        LogExhausted(logger, questId, attempts);
        await DeadLetterAsync(db, entry, questId, ErrorCodes.DeliveryExhausted, attempts);
    }

    private static async Task DeadLetterAsync(IDatabase db, StreamEntry entry, Guid? questId, string reason, long deliveries)
    {
        await db.StreamAddAsync(QueueNames.DeadLetterStream,
        [
            new(QueueNames.Fields.QuestId, questId?.ToString() ?? entry[QueueNames.Fields.QuestId]),
            new(QueueNames.Fields.EntryId, entry.Id),
            new(QueueNames.Fields.Reason, reason),
            new(QueueNames.Fields.Deliveries, deliveries),
            new(QueueNames.Fields.DeadAt, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
        ]);
        await AcknowledgeAsync(db, entry);
    }

    /// <summary>Acknowledges and deletes in one round trip, so handled entries do not pile up in the stream.</summary>
    private static Task AcknowledgeAsync(IDatabase db, StreamEntry entry)
    {
        var batch = db.CreateBatch();
        var ack = batch.StreamAcknowledgeAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, entry.Id);
        var delete = batch.StreamDeleteAsync(QueueNames.QuestStream, [entry.Id]);
        batch.Execute();
        return Task.WhenAll(ack, delete);
    }

    private static async Task EnsureGroupAsync(IDatabase db)
    {
        try
        {
            await db.StreamCreateConsumerGroupAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, StreamPosition.Beginning, createStream: true)
                ;
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another worker made it first.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {ConsumerName} reading the quest stream, up to {MaxConcurrency} at once")]
    private static partial void LogStarted(ILogger logger, string consumerName, int maxConcurrency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the quest stream failed; retrying")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream entry {EntryId} has no quest id; dead-lettered")]
    private static partial void LogMalformedEntry(ILogger logger, string entryId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Quest {QuestId} failed {Attempts} times; dead-lettered")]
    private static partial void LogExhausted(ILogger logger, Guid questId, long attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Quest {QuestId} could not be processed; it stays pending")]
    private static partial void LogProcessingFailed(ILogger logger, Guid questId, Exception exception);
}
