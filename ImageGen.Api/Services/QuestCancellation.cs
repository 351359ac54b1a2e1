using ImageGen.Api.Apis;
using ImageGen.Api.Images;
using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;
using ImageGen.ServiceDefaults.Telemetry;

namespace ImageGen.Api.Services;

/// <summary>
/// The owner's cancel: a queued quest ends at once and free (counted, and its final event published with the quest on
/// it); a running one is marked and its worker is told, and it settles the quest when it stops (see
/// <see cref="QuestCharges.ForCancel"/>).
/// </summary>
internal sealed class QuestCancellation(QuestTransitions transitions, QuestQueue queue, QuestEventPublisher events, ImageUrlSigner signer,
    TimeProvider time, ImageGenMetrics metrics, ModelCatalog catalog)
{
    public async Task<CancelOutcome> CancelAsync(Guid questId, Guid ownerId, CancellationToken cancellationToken)
    {
        var outcome = await transitions.CancelByOwnerAsync(questId, ownerId, cancellationToken);
        switch (outcome)
        {
            case CancelOutcome.Cancelled(var quest):
                metrics.QuestEnded(quest.Model, catalog.ProviderTag(quest.Model), "cancelled", ErrorCodes.Cancelled, null);
                metrics.Credits("released", quest.Cost);
                // Final: nothing can follow a cancel of a queued quest. The quest rides on it with its links signed.
                await events.PublishAsync(QuestEvents.For(quest, QuestSequence.Final, 100, time.GetUtcNow()) with { Quest = quest.ToDto(signer) });
                break;
            case CancelOutcome.Requested:
                await queue.RequestCancelAsync(questId);
                break;
        }

        return outcome;
    }
}
