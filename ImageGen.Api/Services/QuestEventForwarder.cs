using ImageGen.Api.Apis;
using ImageGen.Api.Hubs;
using ImageGen.Api.Images;
using ImageGen.Core.Messaging;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace ImageGen.Api.Services;

/// <summary>
/// Relays quest events from Redis pub/sub to the owner's SignalR connections on this API instance. Every instance
/// receives every event and sends it to its own connections, so any number of replicas works.
/// </summary>
internal sealed partial class QuestEventForwarder(
    IConnectionMultiplexer redis,
    IHubContext<QuestHub> hub,
    ImageUrlSigner signer,
    QuestWaiters waiters,
    QuestThroughput throughput,
    Webhooks.WebhookDispatcher webhooks,
    ILogger<QuestEventForwarder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.GetSubscriber();
        // A ChannelMessageQueue delivers in publish order, one at a time: progress never arrives out of order.
        var queue = await subscriber.SubscribeAsync(RedisChannel.Literal(QueueNames.EventChannel));
        try
        {
            await foreach (var message in queue.WithCancellation(stoppingToken))
            {
                try
                {
                    await ForwardAsync(message.Message.ToString(), stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogForwardFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await queue.UnsubscribeAsync();
        }
    }

    private async Task ForwardAsync(string json, CancellationToken cancellationToken)
    {
        var evt = QuestEvent.FromJson(json);
        if (evt is null)
        {
            return;
        }

        waiters.Observe(evt);
        throughput.Observe(evt);
        webhooks.Wake();

        if (evt.Quest is { } attached)
        {
            // Terminal events carry the finished quest; only the image URLs need signing here.
            evt = evt with { Quest = attached.WithSignedUrls(signer) };
        }

        await hub.Clients.Group(QuestHub.GroupFor(evt.UserId)).SendAsync(QuestHub.EventMethod, evt, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not forward a quest event")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception);
}
