using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data.Entities;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;
using ImageGen.Rendering;
using ImageGen.ServiceDefaults.Telemetry;
using ImageGen.Worker.Providers;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker.Services;

/// <summary>What became of a delivery.</summary>
internal enum ProcessResult
{
    /// <summary>The outcome is stored (or there was nothing to do): acknowledge the entry.</summary>
    Done,

    /// <summary>Handed back on shutdown with a new stream entry: acknowledge this one.</summary>
    HandedBack,

    /// <summary>Started <see cref="WorkerOptions.MaxDeliveries"/> times without an outcome: give it up and dead-letter it.</summary>
    Exhausted,
}

/// <summary>
/// Runs one quest: claim it, generate through the provider router with live progress, store the images, and end it,
/// each state change through <see cref="QuestTransitions"/>; then publish. Returning means the outcome is stored (or
/// the quest handed back with a new stream entry) and the delivered entry may be acknowledged.
/// </summary>
internal sealed partial class QuestProcessor(
    ModelCatalog catalog,
    QuestTransitions transitions,
    IImageStore store,
    ProviderRouter providers,
    QuestQueue queue,
    QuestEventPublisher events,
    QuestPreviews previews,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ImageGenMetrics metrics,
    ILogger<QuestProcessor> logger)
{
    /// <param name="stoppingToken">Cancelled when the worker must let go (shutdown): the quest is handed back to the queue.</param>
    /// <param name="cancelToken">Cancelled when the owner cancels the quest while it runs.</param>
    public async Task<ProcessResult> ProcessAsync(Guid questId, CancellationToken stoppingToken, CancellationToken cancelToken)
    {
        var settings = options.Value;
        var claim = await transitions.ClaimAsync(questId, settings.LeaseDuration, settings.MaxDeliveries,
            $"{Environment.MachineName}/{Environment.ProcessId}", stoppingToken, settings.MaxRunningPerUser);
        if (claim is ClaimOutcome.Exhausted)
        {
            return ProcessResult.Exhausted;
        }

        if (claim is not ClaimOutcome.Claimed { Quest: var quest })
        {
            // Parked when its owner is at their limit: sent again as one of their runs ends.
            LogNotClaimed(logger, questId, claim is ClaimOutcome.OwnerBusy ? "its owner is at their running limit" : "finished, unknown, or held by another worker");
            return ProcessResult.Done;
        }

        try
        {
            return await ProcessClaimedAsync(quest, stoppingToken, cancelToken);
        }
        finally
        {
            await StartNextOfOwnerAsync(quest.UserId);
        }
    }

    /// <summary>An edit's images and mask, read from the store (a missing file fails the quest: it was deleted since the submit).</summary>
    private async Task<List<(InputImage Image, bool IsMask)>> LoadInputsAsync(Quest quest, CancellationToken cancellationToken)
    {
        var loaded = new List<(InputImage, bool)>();
        foreach (var input in quest.Inputs)
        {
            await using var stream = await store.OpenReadAsync(input.StorageKey, cancellationToken)
                ?? throw new ProviderException(ProviderFailure.Rejected, "An image this edit starts from was deleted before the edit ran.", retryable: false);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            loaded.Add((new InputImage(buffer.ToArray(), input.ContentType, input.Width, input.Height), input.IsMask));
        }

        return loaded;
    }

    /// <summary>A run of this owner ended (or was handed back): one of their waiting quests may start now.</summary>
    private async Task StartNextOfOwnerAsync(Guid ownerId)
    {
        try
        {
            if (await transitions.NextWaitingOfAsync(ownerId, CancellationToken.None) is { } next)
            {
                await queue.EnqueueAsync(next);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reconciler sends it later.
            LogNextNotSent(logger, ownerId, e);
        }
    }

    private async Task<ProcessResult> ProcessClaimedAsync(Quest quest, CancellationToken stoppingToken, CancellationToken cancelToken)
    {
        var questId = quest.Id;
        var settings = options.Value;

        var model = catalog.TryGet(quest.Model, out var m) ? m : null;
        var run = new QuestRun(quest, model?.Provider == ModelProvider.Local ? SketchRenderer.StepCount : 100, time);
        if (model is null || !model.Available)
        {
            await EndAsync(run, transitions.FailAsync(quest.Id, run.Number, ErrorCodes.ModelUnavailable, FailureExplanations.ModelGone(quest.Model), run.TakeSteps(), CancellationToken.None));
            return ProcessResult.Done;
        }

        if (quest.CancelRequested)
        {
            await EndAsync(run, transitions.CancelRunAsync(quest, run.TakeSteps(), CancellationToken.None));
            return ProcessResult.Done;
        }

        var now = time.GetUtcNow();
        LogStarted(logger, questId, quest.UserId, quest.Model, quest.Attempts);
        metrics.QuestStarted(quest.Model, catalog.ProviderTag(quest.Model), now - quest.EnqueuedAt);
        await PublishAsync(run, quest);

        // The deadline counts from the first start, so a redelivered quest does not get a fresh allowance.
        var remaining = quest.StartedAt!.Value + settings.QuestDeadline - time.GetUtcNow();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, cancelToken);
        deadline.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        using var heartbeat = new CancellationTokenSource();
        var beating = HeartbeatAsync(run, heartbeat.Token);
        try
        {
            return await RunAsync(run, model, deadline, stoppingToken, cancelToken);
        }
        finally
        {
            await heartbeat.CancelAsync();
            await beating;
        }
    }

    private async Task<ProcessResult> RunAsync(QuestRun run, ModelDescriptor model, CancellationTokenSource deadline, CancellationToken stoppingToken, CancellationToken cancelToken)
    {
        var quest = run.Quest;
        ProviderResult result;
        var parameters = quest.Parameters;
        var fallbacks = new Queue<FallbackPlan>(quest.Parameters.Fallbacks ?? []);
        try
        {
            var inputs = await LoadInputsAsync(quest, deadline.Token);
            while (true)
            {
                try
                {
                    result = await CallAsync(model, parameters);
                    break;
                }
                catch (ProviderException e) when (e.AllowsFallback && fallbacks.Count > 0)
                {
                    // The model asked for cannot take the quest now, and nothing was billed: the next fallback runs it.
                    if (NextFallback(fallbacks) is not { } found)
                    {
                        throw;
                    }

                    var (next, plan) = found;

                    run.AddStep(QuestStepKinds.Fallback, code: e.ErrorCode,
                        detail: $"{model.DisplayName} {(e.NotSent ? "is not taking work (its circuit is open)" : "is still rate limited after retries")}; running on {next.DisplayName} ({next.Id}) instead");
                    (model, parameters) = (next, plan.Parameters);
                }
            }

            Task<ProviderResult> CallAsync(ModelDescriptor model, QuestParameters parameters) => providers.GenerateAsync(new ProviderRequest
            {
                QuestId = quest.Id,
                Prompt = quest.Prompt,
                Model = model,
                Parameters = parameters,
                Inputs = [.. inputs.Where(i => !i.IsMask).Select(i => i.Image)],
                Mask = inputs.FirstOrDefault(i => i.IsMask).Image,
                ParentJobId = quest.Inputs.FirstOrDefault(i => i.JobId is not null)?.JobId,
                ResumePollingUrl = quest.ProviderPollingUrl,
                OnJobAccepted = (id, url, cost, _) => RecordJobAsync(run, id, url, cost),
                OnBillable = (billable, _) => RecordBillableAsync(run, billable),
                OnProgress = (progress, text, token) => ReportProgressAsync(run, progress, text, token),
                OnPreview = frame => run.PendingPreview = QuestPreviews.DataUri(frame),
                OnCall = call => RecordCall(run, call),
            }, deadline.Token);
        }
        catch (OperationCanceledException) when (cancelToken.IsCancellationRequested)
        {
            await EndAsync(run, transitions.CancelRunAsync(quest, run.TakeSteps(), CancellationToken.None));
            return ProcessResult.Done;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return await HandBackAsync(run);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await FailAsync(run, ErrorCodes.TimedOut, FailureExplanations.TimedOut(model, options.Value.QuestDeadline), null, QuestStatus.TimedOut,
                QuestCharges.ForProviderFailure(quest, providerBills: true));
            return ProcessResult.Done;
        }
        catch (ProviderException e)
        {
            await FailAsync(run, e.ErrorCode, FailureExplanations.For(e, model), e, QuestStatus.Failed,
                QuestCharges.ForProviderFailure(quest, providerBills: e.Failure is not (ProviderFailure.Moderated or ProviderFailure.Rejected or ProviderFailure.AccountExhausted)));
            return ProcessResult.Done;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await FailAsync(run, ErrorCodes.RenderFailed, FailureExplanations.RenderFailed, e);
            return ProcessResult.Done;
        }

        await SucceedAsync(run, result, new ValidQuest(quest.Prompt, model, parameters), stoppingToken);
        return ProcessResult.Done;
    }

    /// <summary>The next fallback the catalog still offers, with its plan; null when none is left.</summary>
    private (ModelDescriptor Model, FallbackPlan Plan)? NextFallback(Queue<FallbackPlan> fallbacks)
    {
        while (fallbacks.TryDequeue(out var plan))
        {
            if (catalog.TryGet(plan.Model, out var next) && next.Available)
            {
                return (next, plan);
            }
        }

        return null;
    }

    /// <summary>Ends a quest that is not finished yet, from outside a run (the reconciler, the dead-letter path); false if it had ended.</summary>
    public async Task<bool> EndUnfinishedAsync(Guid questId, QuestStatus status, string code, string message)
    {
        var ended = await transitions.EndUnfinishedAsync(questId, status, code, message, CancellationToken.None);
        if (ended is null)
        {
            return false;
        }

        ReportEnded(ended, null);
        await events.PublishAsync(EventFor(ended, QuestSequence.OutsideRun(ended.Attempts), totalSteps: 100));
        return true;
    }

    /// <summary>Shutdown: put the quest back in the queue for another worker, with a fresh stream entry.</summary>
    private async Task<ProcessResult> HandBackAsync(QuestRun run)
    {
        var quest = run.Quest;
        if (await transitions.HandBackAsync(quest.Id, run.Number, run.TakeSteps(), CancellationToken.None) is not null)
        {
            await queue.EnqueueAsync(quest.Id);
            LogHandedBack(logger, quest.Id, quest.UserId, quest.Model);
        }

        return ProcessResult.HandedBack;
    }

    private async Task FailAsync(QuestRun run, string code, string message, Exception? exception, QuestStatus status = QuestStatus.Failed,
        QuestCharge charge = default)
    {
        var quest = run.Quest;
        LogFailed(logger, quest.Id, quest.UserId, quest.Model, code, exception);
        await EndAsync(run, transitions.FailAsync(quest.Id, run.Number, code, FailureExplanations.WithCharge(message, charge), run.TakeSteps(), CancellationToken.None,
            status, charge));
    }

    /// <summary>Reports and publishes an ending the run asked for; nothing when the quest had already ended elsewhere.</summary>
    private async Task EndAsync(QuestRun run, Task<Quest?> ending)
    {
        if (await ending is not { } ended)
        {
            LogAlreadySettled(logger, run.Quest.Id);
            return;
        }

        ReportEnded(ended, ended.GenerationMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
        await PublishAsync(run, ended);
    }

    private void ReportEnded(Quest ended, TimeSpan? generation)
    {
        var charged = ended.Charged ?? 0;
        metrics.QuestEnded(ended.Model, catalog.ProviderTag(ended.Model), StatusTag(ended.Status), ended.ErrorCode, generation);
        metrics.Credits("captured", charged);
        metrics.Credits("released", ended.Cost - charged);
    }

    /// <summary>The status as metrics name it: snake_case.</summary>
    private static string StatusTag(QuestStatus status) => status switch
    {
        QuestStatus.TimedOut => "timed_out",
        _ => status.ToString().ToLowerInvariant(),
    };
}
