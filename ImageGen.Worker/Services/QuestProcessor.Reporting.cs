using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using ImageGen.Worker.Providers;

namespace ImageGen.Worker.Services;

/// <summary>
/// What a run reports while it goes: each provider call and retry on its timeline, the lease renewed, an accepted job
/// saved at once, progress and preview frames published (and saved now and then).
/// </summary>
internal sealed partial class QuestProcessor
{
    private void RecordCall(QuestRun run, ProviderCall call)
    {
        var quest = run.Quest;
        metrics.ProviderCalled(quest.Model, catalog.ProviderTag(quest.Model), call.HttpStatus, call.ErrorCode, call.RetryIn is not null);
        LogProviderCall(logger, quest.Id, quest.UserId, quest.Model, call.Attempt, (long)call.Duration.TotalMilliseconds, call.HttpStatus, call.ErrorCode);
        run.AddStep(QuestStepKinds.ProviderCall, call.Attempt, (int)call.Duration.TotalMilliseconds, call.HttpStatus, call.ErrorCode, call.Message, call.Circuit,
            call.Sent?.ToJsonString());
        if (call.RetryIn is { } wait)
        {
            LogRetry(logger, quest.Id, quest.UserId, quest.Model, call.Attempt, call.ErrorCode, (long)wait.TotalMilliseconds);
            run.AddStep(QuestStepKinds.RetryWait, call.Attempt, (int)wait.TotalMilliseconds, code: call.ErrorCode,
                detail: $"retrying after {call.ErrorCode}{(call.HttpStatus is { } status ? $" (HTTP {status})" : "")}");
        }
    }

    /// <summary>Renews the lease while the quest runs, from its own scope (the run's context is busy).</summary>
    private async Task HeartbeatAsync(QuestRun run, CancellationToken cancellationToken)
    {
        var lease = options.Value.LeaseDuration;
        try
        {
            while (true)
            {
                await Task.Delay(lease / 3, time, cancellationToken);
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<QuestTransitions>().RenewLeaseAsync(run.Quest.Id, run.Number, lease, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHeartbeatFailed(logger, run.Quest.Id, e);
        }
    }

    private async Task RecordBillableAsync(QuestRun run, bool billable)
    {
        // Kept at once and before the answer comes: a cancel while the provider works is charged what it bills; an
        // answer that refused the request (not billed) takes the mark back.
        if (run.Quest.ProviderJobId is null)
        {
            run.Quest.BillableSince = billable ? run.Quest.BillableSince ?? time.GetUtcNow() : null;
        }

        try
        {
            await transitions.RecordBillableAsync(run.Quest.Id, run.Number, billable, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // This run still knows (a cancel it settles is charged); only a run that takes over after a crash would not.
            LogBillableNotStored(logger, run.Quest.Id, e);
        }
    }

    private async Task RecordJobAsync(QuestRun run, string jobId, string pollingUrl, int? cost)
    {
        // Saved at once: if this worker dies now, the next run resumes the job instead of paying for another.
        var quest = run.Quest;
        quest.ProviderJobId = jobId;
        quest.ProviderPollingUrl = pollingUrl;
        quest.ProviderCost = QuestCharges.IsSane(cost) ? cost : null;
        quest.BillableSince ??= time.GetUtcNow();
        await transitions.RecordJobAcceptedAsync(quest.Id, run.Number, jobId, pollingUrl, cost, run.TakeSteps(), CancellationToken.None);
    }

    private async ValueTask ReportProgressAsync(QuestRun run, double progress, string text, CancellationToken cancellationToken)
    {
        var quest = run.Quest;
        var save = run.Advance(progress, QuestTransitions.Limit(text, QuestLimits.MaxStatusTextLength), options.Value.ProgressPersistInterval);
        LogProgress(logger, quest.Id, quest.UserId, quest.Model, quest.Progress);
        var preview = run.PendingPreview;
        if (preview is not null)
        {
            // The latest frame also waits in Redis for clients that connect late (or to another API instance).
            run.PendingPreview = null;
            await previews.SaveAsync(quest.Id, preview);
        }

        await PublishAsync(run, quest, preview);
        if (save)
        {
            await transitions.RecordProgressAsync(quest.Id, run.Number, quest.Progress, quest.StatusText!, run.TakeSteps(), cancellationToken);
        }
    }

    private Task PublishAsync(QuestRun run, Quest state, string? preview = null) =>
        events.PublishAsync(EventFor(state, run.NextSequence(), run.TotalSteps) with { Preview = preview });

    private QuestEvent EventFor(Quest quest, long sequence, int totalSteps) => QuestEvents.For(quest, sequence, totalSteps, time.GetUtcNow());
}
