using System.Diagnostics;
using ImageGen.Core.Messaging;
using StackExchange.Redis;

namespace ImageGen.Data.Queue;

/// <summary>Hands quests to the workers: one stream entry each, carrying the W3C trace context.</summary>
public sealed class QuestQueue(IConnectionMultiplexer redis)
{
    /// <summary>Keeps the stream bounded; acknowledged entries are deleted anyway.</summary>
    private const int MaxStreamLength = 100_000;

    public async Task EnqueueAsync(Guid questId)
    {
        var db = redis.GetDatabase();
        var fields = new List<NameValueEntry>(3) { new(QueueNames.Fields.QuestId, questId.ToString()) };
        if (Activity.Current is { } activity)
        {
            fields.Add(new(QueueNames.Fields.TraceParent, activity.Id));
            if (activity.TraceStateString is { } state)
            {
                fields.Add(new(QueueNames.Fields.TraceState, state));
            }
        }

        var added = db.StreamAddAsync(QueueNames.QuestStream, [.. fields], maxLength: MaxStreamLength, useApproximateMaxLength: true);
        // Idle workers wait on this instead of polling the stream. Sent behind the entry on the same connection, without
        // waiting for its answer: Redis runs them in order, so a woken worker finds the entry (one round trip sooner).
        await db.PublishAsync(RedisChannel.Literal(QueueNames.QuestWakeChannel), "1", CommandFlags.FireAndForget);
        await added;
    }

    /// <summary>Asks whichever worker runs the quest to stop it.</summary>
    public Task RequestCancelAsync(Guid questId) =>
        redis.GetSubscriber().PublishAsync(RedisChannel.Literal(QueueNames.CancelChannel), questId.ToString());
}
