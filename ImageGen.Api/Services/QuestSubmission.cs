using System.Diagnostics;
using ImageGen.Api.Webhooks;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;
using ImageGen.ServiceDefaults.Telemetry;

namespace ImageGen.Api.Services;

/// <summary>
/// What a surface asks to submit: whose quest, the request in the native API's terms, how a retry of it is recognised,
/// why (an operator's re-drive says so in the ledger), and the API key it came with (null for a session: the quest
/// records it, and the key's monthly cap holds). <see cref="WebhookEventsField"/> names the event filter as the
/// surface's callers spell it, for its errors.
/// </summary>
internal sealed record QuestOrder(Guid OwnerId, CreateQuestRequest Request, IdempotencyRequest? Idempotency = null, string? Reason = null,
    string WebhookEventsField = "webhookEvents", Guid? ApiKeyId = null);

/// <summary>
/// The one submit pipeline, for every surface (the native API and its Midjourney follow-ups, <c>/v1</c> generations and
/// edits, an operator's re-drive): validates the request against the catalog, finds its inputs among the owner's
/// images, makes the quest, applies its webhook, and stores it with its reservation through <see cref="QuestTransitions"/>;
/// then rings the workers. Surfaces only translate their request into a <see cref="QuestOrder"/> and the outcome into
/// their answer. Once the commit is done the quest is accepted, whatever Redis says next: a stream entry that could not
/// be added is added by the reconciler, which re-sends queued quests no worker took (the quest row is the outbox).
/// </summary>
internal sealed partial class QuestSubmission(
    QuestTransitions transitions, QuestInputs inputs, QuestWebhooks webhooks, QuestQueue queue, TimeProvider time, ImageGenMetrics metrics,
    ModelCatalog catalog, DefaultFallbacks defaults, ILogger<QuestSubmission> logger)
{
    private static readonly ActivitySource Source = new(ServiceDefaultsExtensions.TelemetryName);

    /// <summary>Submits the order: <see cref="SubmitOutcome.Invalid"/> when it does not hold (nothing stored), else what the ledger decided.</summary>
    public async Task<SubmitOutcome> SubmitAsync(QuestOrder order, CancellationToken cancellationToken)
    {
        var errors = QuestValidator.Validate(catalog, await defaults.ApplyAsync(order.OwnerId, order.Request, cancellationToken), out var valid);
        if (valid is null)
        {
            return new SubmitOutcome.Invalid(errors);
        }

        using var activity = Source.StartActivity("quest.submit", ActivityKind.Producer);
        var (resolved, found, inputErrors) = await inputs.ResolveAsync(order.OwnerId, valid, cancellationToken);
        if (inputErrors.Count > 0)
        {
            return new SubmitOutcome.Invalid(inputErrors);
        }

        var quest = NewQuest(order.OwnerId, resolved);
        quest.Inputs = found;
        quest.ApiKeyId = order.ApiKeyId;
        if (await webhooks.ApplyAsync(quest, order.Request.Webhook, order.Request.WebhookEvents, "webhook", order.WebhookEventsField, cancellationToken)
            is { Count: > 0 } hookErrors)
        {
            return new SubmitOutcome.Invalid(hookErrors);
        }

        activity?.SetTag("quest.id", quest.Id);
        activity?.SetTag("quest.model", quest.Model);
        var outcome = await transitions.EnqueueAsync(quest, order.Idempotency, order.Reason, cancellationToken);
        if (outcome is SubmitOutcome.Accepted)
        {
            await inputs.MarkUsedAsync(quest.UserId, found, cancellationToken);
            await RingAsync(quest);
            metrics.QuestSubmitted(quest.Model, catalog.ProviderTag(quest.Model), quest.Cost);
            LogQueued(logger, quest.Id, quest.UserId, quest.Model, quest.Cost);
        }

        return outcome;
    }

    /// <summary>A new quest for <paramref name="userId"/> from a validated request.</summary>
    private Quest NewQuest(Guid userId, ValidQuest valid) => new()
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
