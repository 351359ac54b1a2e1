using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using StackExchange.Redis;

namespace ImageGen.Data.Queue;

/// <summary>Publishes quest events on Redis pub/sub, where every API instance picks them up.</summary>
public sealed class QuestEventPublisher(IConnectionMultiplexer redis)
{
    private static readonly RedisChannel Channel = RedisChannel.Literal(QueueNames.EventChannel);

    /// <summary>
    /// Progress goes out fire-and-forget (one connection keeps the order); terminal events are awaited so the
    /// stream entry is not acknowledged before its event left.
    /// </summary>
    public Task PublishAsync(QuestEvent evt)
    {
        var flags = evt.Status.IsTerminal() ? CommandFlags.None : CommandFlags.FireAndForget;
        return redis.GetSubscriber().PublishAsync(Channel, evt.ToJson(), flags);
    }
}
