using System.Diagnostics;
using System.Threading.Channels;
using ImageGen.Core.Messaging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Worker.Services;

/// <summary>
/// Reads the quest stream with the workers' consumer group and runs up to <see cref="WorkerOptions.MaxConcurrency"/>
/// quests at once. An entry is acknowledged only after its outcome is stored; on shutdown, unfinished entries stay
/// pending and this consumer reads them first when it starts again.
/// </summary>
internal sealed partial class QuestConsumer(
    IConnectionMultiplexer redis,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    ILogger<QuestConsumer> logger) : BackgroundService
{
    private static readonly ActivitySource Source = new(ServiceDefaultsExtensions.TelemetryName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var db = redis.GetDatabase();
        await EnsureGroupAsync(db).ConfigureAwait(false);

        // A wake-up arrives whenever a quest is added; one pending signal is enough.
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        await redis.GetSubscriber()
            .SubscribeAsync(RedisChannel.Literal(QueueNames.QuestWakeChannel), (_, _) => wake.Writer.TryWrite(true))
            .ConfigureAwait(false);

        using var slots = new SemaphoreSlim(settings.MaxConcurrency, settings.MaxConcurrency);
        var inFlight = new HashSet<Task>();
        LogStarted(logger, settings.ConsumerName, settings.MaxConcurrency);

        // An id reads this consumer's own pending entries after it (left by a previous run); ">" reads new ones.
        RedisValue position = "0";
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                var count = slots.CurrentCount + 1;
                StreamEntry[] entries;
                try
                {
                    entries = await db.StreamReadGroupAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, settings.ConsumerName, position, count)
                        .ConfigureAwait(false);
                }
                catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
                {
                    // Redis lost the stream (restart without persistence): create it again and carry on.
                    slots.Release();
                    await EnsureGroupAsync(db).ConfigureAwait(false);
                    continue;
                }
                catch (RedisException e)
                {
                    slots.Release();
                    LogReadFailed(logger, e);
                    await Task.Delay(settings.IdlePollInterval, stoppingToken).ConfigureAwait(false);
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
                        await wake.Reader.ReadAsync(idle.Token).ConfigureAwait(false);
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
                        await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                    }

                    var entry = entries[i];
                    var task = Task.Run(() => HandleAsync(db, entry, stoppingToken), CancellationToken.None);
                    lock (inFlight)
                    {
                        inFlight.Add(task);
                    }

                    _ = task.ContinueWith(t =>
                    {
                        lock (inFlight)
                        {
                            inFlight.Remove(t);
                        }

                        slots.Release();
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        Task[] remaining;
        lock (inFlight)
        {
            remaining = [.. inFlight];
        }

        // In-flight quests see the stop token and leave their entries pending; wait for them to let go.
        await Task.WhenAll(remaining).ConfigureAwait(false);
        await redis.GetSubscriber().UnsubscribeAsync(RedisChannel.Literal(QueueNames.QuestWakeChannel)).ConfigureAwait(false);
    }

    private async Task HandleAsync(IDatabase db, StreamEntry entry, CancellationToken stoppingToken)
    {
        var questValue = entry[QueueNames.Fields.QuestId];
        if (!Guid.TryParse(questValue.ToString(), out var questId))
        {
            LogMalformedEntry(logger, entry.Id.ToString());
            await AcknowledgeAsync(db, entry).ConfigureAwait(false);
            return;
        }

        // Continue the trace of the request that submitted the quest.
        ActivityContext.TryParse(entry[QueueNames.Fields.TraceParent], entry[QueueNames.Fields.TraceState], out var parent);
        using var activity = Source.StartActivity("quest.process", ActivityKind.Consumer, parent);
        activity?.SetTag("quest.id", questId);
        activity?.SetTag("messaging.message.id", entry.Id.ToString());

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<QuestProcessor>().ProcessAsync(questId, stoppingToken).ConfigureAwait(false);
            await AcknowledgeAsync(db, entry).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogHandedBack(logger, questId);
        }
        catch (Exception e)
        {
            // Not acknowledged: the entry stays pending and is delivered again.
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            LogProcessingFailed(logger, questId, e);
        }
    }

    private static Task AcknowledgeAsync(IDatabase db, StreamEntry entry) =>
        db.StreamAcknowledgeAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, entry.Id);

    private static async Task EnsureGroupAsync(IDatabase db)
    {
        try
        {
            await db.StreamCreateConsumerGroupAsync(QueueNames.QuestStream, QueueNames.WorkerGroup, StreamPosition.Beginning, createStream: true)
                .ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream entry {EntryId} has no quest id; acknowledged and dropped")]
    private static partial void LogMalformedEntry(ILogger logger, string entryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} handed back on shutdown; it stays pending")]
    private static partial void LogHandedBack(ILogger logger, Guid questId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Quest {QuestId} could not be processed; it stays pending")]
    private static partial void LogProcessingFailed(ILogger logger, Guid questId, Exception exception);
}
