using System.Diagnostics;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;
using ImageGen.ServiceDefaults.Telemetry;

namespace ImageGen.Api.Services;

/// <summary>
/// Submits a quest for every surface (the native API, an operator's re-drive): stores it with its reservation through
/// <see cref="QuestTransitions"/>, then rings the workers. Once the commit is done the quest is accepted, whatever Redis
/// says next: a stream entry that could not be added is added by the reconciler, which re-sends queued quests no worker
/// took (the quest row is the outbox).
/// </summary>
internal sealed partial class QuestSubmission(QuestTransitions transitions, QuestQueue queue, TimeProvider time, ImageGenMetrics metrics, ILogger<QuestSubmission> logger)
{
    /// <summary>A new quest for <paramref name="userId"/> from a validated request.</summary>
    public Quest NewQuest(Guid userId, ValidQuest valid) => new()
    {
        Id = Guid.CreateVersion7(time.GetUtcNow()),
        UserId = userId,
        Prompt = valid.Prompt,
        Model = valid.Model.Id,
        Width = valid.Width,
        Height = valid.Height,
        Seed = valid.Parameters.Seed,
        Parameters = valid.Parameters,
        Cost = valid.Cost,
        TraceParent = Activity.Current?.Id,
    };

    public async Task<SubmitOutcome> SubmitAsync(Quest quest, IdempotencyRequest? idempotency, string? reason, CancellationToken cancellationToken)
    {
        var outcome = await transitions.EnqueueAsync(quest, idempotency, reason, cancellationToken);
        if (outcome is SubmitOutcome.Accepted)
        {
            await RingAsync(quest);
            metrics.QuestSubmitted(quest.Model, ModelCatalog.ProviderTag(quest.Model), quest.Cost);
            LogQueued(logger, quest.Id, quest.UserId, quest.Model, quest.Cost);
        }

        return outcome;
    }

    private async Task RingAsync(Quest quest)
    {
        try
        {
            await queue.EnqueueAsync(quest.Id);
        }
        catch (Exception e) when (RedisFaults.IsOutage(e))
        {
            // Committed is accepted: the reconciler sends it once Redis answers again.
            LogDeferred(logger, quest.Id, quest.UserId, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} queued on {Model}, {Cost} credits reserved")]
    private static partial void LogQueued(ILogger logger, Guid questId, Guid userId, string model, int cost);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} of {UserId} is stored but its stream entry could not be added; the reconciler will send it")]
    private static partial void LogDeferred(ILogger logger, Guid questId, Guid userId, Exception exception);
}
