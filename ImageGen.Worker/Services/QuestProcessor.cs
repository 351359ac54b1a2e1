using System.Diagnostics;
using System.Security.Cryptography;
using ImageGen.Core.Accounts;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using ImageGen.Rendering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker.Services;

/// <summary>
/// Runs one quest: mark it running, render with progress, store the image, record the outcome, publish events.
/// Returning means the outcome is stored and the stream entry may be acknowledged; cancellation leaves it pending.
/// </summary>
internal sealed partial class QuestProcessor(
    ImageGenDbContext db,
    IImageStore store,
    QuestEventPublisher events,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<QuestProcessor> logger)
{
    public async Task ProcessAsync(Guid questId, CancellationToken cancellationToken)
    {
        var quest = await db.Quests.FirstOrDefaultAsync(q => q.Id == questId, cancellationToken).ConfigureAwait(false);
        if (quest is null)
        {
            LogUnknownQuest(logger, questId);
            return;
        }

        if (quest.Status.IsTerminal())
        {
            // Delivered again after it finished (a crash between saving and acknowledging): nothing to do.
            return;
        }

        quest.Status = QuestStatus.Running;
        quest.Attempts++;
        quest.StartedAt ??= time.GetUtcNow();
        quest.Progress = 0;
        quest.StatusText = "Starting...";
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        LogStarted(logger, questId, quest.Model, quest.Attempts);

        var sequence = (long)quest.Attempts << 20;
        await events.PublishAsync(Event(quest, ++sequence, 0, SketchRenderer.StepCount)).ConfigureAwait(false);

        RenderedImage rendered;
        try
        {
            var lastPersisted = time.GetTimestamp();
            rendered = await SketchRenderer.RenderAsync(
                new SketchRequest(quest.Prompt, quest.Seed, quest.Width, quest.Height),
                async (step, ct) =>
                {
                    quest.Progress = (double)step.Step / step.TotalSteps;
                    quest.StatusText = step.StatusText;
                    await events.PublishAsync(Event(quest, ++sequence, step.Step, step.TotalSteps)).ConfigureAwait(false);
                    if (time.GetElapsedTime(lastPersisted) >= options.Value.ProgressPersistInterval)
                    {
                        lastPersisted = time.GetTimestamp();
                        await db.SaveChangesAsync(ct).ConfigureAwait(false);
                    }
                },
                options.Value.RenderStepDelay,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, questId, ErrorCodes.RenderFailed, e);
            await FailAsync(quest, ++sequence, ErrorCodes.RenderFailed, "The renderer could not draw this image. Try again, or change the size.").ConfigureAwait(false);
            return;
        }

        var imageId = Guid.CreateVersion7(time.GetUtcNow());
        var key = FileSystemImageStore.KeyFor(imageId, "png");
        try
        {
            await store.SaveAsync(key, rendered.Png, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, questId, ErrorCodes.StorageFailed, e);
            await FailAsync(quest, ++sequence, ErrorCodes.StorageFailed, "The image was made but could not be stored. Try again in a moment.").ConfigureAwait(false);
            return;
        }

        // The image is durable before the quest says Succeeded; both rows commit together.
        quest.Images.Add(new QuestImage
        {
            Id = imageId,
            QuestId = quest.Id,
            UserId = quest.UserId,
            Index = 0,
            Width = rendered.Width,
            Height = rendered.Height,
            ContentType = "image/png",
            Bytes = rendered.Png.Length,
            Checksum = Convert.ToHexStringLower(SHA256.HashData(rendered.Png)),
            StorageKey = key,
            CreatedAt = time.GetUtcNow(),
        });
        quest.Status = QuestStatus.Succeeded;
        quest.Progress = 1;
        quest.StatusText = "Done.";
        quest.CompletedAt = time.GetUtcNow();
        quest.GenerationMilliseconds = (int)rendered.Elapsed.TotalMilliseconds;
        // The charge is captured in the same commit that records success: never one without the other.
        db.CreditEntries.Add(CreditLedger.Entry(quest.UserId, CreditEntryKind.Capture, 0, time.GetUtcNow(), quest.Id));
        if (!await SaveSettlementAsync(quest).ConfigureAwait(false))
        {
            return;
        }

        LogSucceeded(logger, questId, quest.Model, quest.GenerationMilliseconds.Value);

        await events.PublishAsync(Event(quest, ++sequence, SketchRenderer.StepCount, SketchRenderer.StepCount)).ConfigureAwait(false);
    }

    private async Task FailAsync(Quest quest, long sequence, string code, string message)
    {
        quest.Status = QuestStatus.Failed;
        quest.StatusText = "Failed.";
        quest.ErrorCode = code;
        quest.ErrorMessage = message;
        quest.CompletedAt = time.GetUtcNow();
        // Nothing was delivered, so the reservation goes back, in the same commit as the failure.
        db.CreditEntries.Add(CreditLedger.Entry(quest.UserId, CreditEntryKind.Release, quest.Cost, time.GetUtcNow(), quest.Id));
        if (await SaveSettlementAsync(quest).ConfigureAwait(false))
        {
            await events.PublishAsync(Event(quest, sequence, 0, SketchRenderer.StepCount)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Saves a terminal state with its ledger settlement. If an earlier attempt already settled this quest (a crash
    /// after commit, before acknowledging), the unique settlement index refuses the second one: nothing is charged
    /// twice, and this attempt stands down.
    /// </summary>
    private async Task<bool> SaveSettlementAsync(Quest quest)
    {
        try
        {
            await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException e) when (CreditLedger.IsDuplicateSettlement(e))
        {
            LogAlreadySettled(logger, quest.Id);
            return false;
        }
    }

    private QuestEvent Event(Quest quest, long sequence, int step, int total) => new()
    {
        QuestId = quest.Id,
        UserId = quest.UserId,
        Sequence = sequence,
        Status = quest.Status,
        Step = step,
        TotalSteps = total,
        Progress = quest.Progress,
        StatusText = quest.StatusText,
        Error = quest.ErrorCode is null ? null : new QuestErrorDto(quest.ErrorCode, quest.ErrorMessage ?? ""),
        PublishedAt = time.GetUtcNow(),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} is in the stream but not in the database; dropping the entry")]
    private static partial void LogUnknownQuest(ILogger logger, Guid questId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} started on {Model}, attempt {Attempt}")]
    private static partial void LogStarted(ILogger logger, Guid questId, string model, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} succeeded on {Model} in {GenerationMs} ms")]
    private static partial void LogSucceeded(ILogger logger, Guid questId, string model, int generationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} was already settled by an earlier attempt; standing down")]
    private static partial void LogAlreadySettled(ILogger logger, Guid questId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Quest {QuestId} failed with {ErrorCode}")]
    private static partial void LogFailed(ILogger logger, Guid questId, string errorCode, Exception exception);
}
