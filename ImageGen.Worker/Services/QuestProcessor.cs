using System.Security.Cryptography;
using ImageGen.Core.Accounts;
using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using ImageGen.Rendering;
using ImageGen.Data.Queue;
using ImageGen.Worker.Providers;
using Microsoft.EntityFrameworkCore;
using ImageGen.ServiceDefaults.Telemetry;
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
/// Runs one quest: claim it, generate through the provider router with live progress, store the images,
/// record the outcome with its ledger settlement, publish events. Returning means the outcome is stored (or the quest
/// handed back with a new stream entry) and the delivered entry may be acknowledged.
/// </summary>
internal sealed partial class QuestProcessor(
    ImageGenDbContext db,
    IImageStore store,
    ProviderRouter providers,
    QuestQueue queue,
    QuestEventPublisher events,
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ImageGenMetrics metrics,
    ILogger<QuestProcessor> logger)
{
    private Quest _quest = null!;
    private long _sequence;
    private int _totalSteps;
    private long _lastPersisted;

    /// <param name="stoppingToken">Cancelled when the worker must let go (shutdown): the quest is handed back to the queue.</param>
    /// <param name="cancelToken">Cancelled when the owner cancels the quest while it runs.</param>
    public async Task<ProcessResult> ProcessAsync(Guid questId, CancellationToken stoppingToken, CancellationToken cancelToken)
    {
        // Claim it in Postgres: queued, or running under a lease that lapsed (its worker died). Exactly one worker
        // wins, whatever duplicates the stream holds.
        // A quest that has been started as often as it may be delivered is not started again: it crashed every worker
        // that ran it (the re-queues of the reconciler make new stream entries, so entry delivery counts alone miss it).
        var now = time.GetUtcNow();
        var lease = now + options.Value.LeaseDuration;
        var maxAttempts = options.Value.MaxDeliveries;
        // One statement claims and reads it (UPDATE ... RETURNING); the row comes back tracked, for the saves below.
        string running = nameof(QuestStatus.Running), queued = nameof(QuestStatus.Queued), starting = "Starting...";
        var quest = (await db.Quests.FromSql($"""
            UPDATE quests SET status = {running}, lease_until = {lease}, attempts = attempts + 1,
                started_at = COALESCE(started_at, {now}), status_text = {starting}
            WHERE id = {questId} AND attempts < {maxAttempts}
                AND (status = {queued} OR (status = {running} AND lease_until < {now}))
            RETURNING *
            """).ToListAsync(stoppingToken).ConfigureAwait(false)).SingleOrDefault();
        if (quest is null)
        {
            // Rare, so the question why is asked only now.
            if (await db.Quests.AnyAsync(q => q.Id == questId && q.Attempts >= maxAttempts
                    && (q.Status == QuestStatus.Queued || (q.Status == QuestStatus.Running && q.LeaseUntil < now)), stoppingToken).ConfigureAwait(false))
            {
                return ProcessResult.Exhausted;
            }

            // Finished, cancelled, unknown, or alive in another worker's hands: this delivery has nothing to do.
            LogNotClaimed(logger, questId);
            return ProcessResult.Done;
        }

        _quest = quest;
        var model = ModelCatalog.TryGet(quest.Model, out var m) ? m : null;
        if (model is null || !model.Available)
        {
            await FailAsync(ErrorCodes.ModelUnavailable, $"The model '{quest.Model}' is not offered any more.").ConfigureAwait(false);
            return ProcessResult.Done;
        }

        if (quest.CancelRequested)
        {
            await CancelAsync().ConfigureAwait(false);
            return ProcessResult.Done;
        }

        LogStarted(logger, questId, quest.UserId, quest.Model, quest.Attempts);
        metrics.QuestStarted(quest.Model, ModelCatalog.ProviderTag(quest.Model), now - quest.EnqueuedAt);
        AddStep(QuestStepKinds.Started, durationMs: (int)Math.Max(0, (now - quest.EnqueuedAt).TotalMilliseconds),
            detail: $"{Environment.MachineName}/{Environment.ProcessId}");
        _sequence = (long)quest.Attempts << 20;
        _totalSteps = model.Provider == ModelProvider.Local ? SketchRenderer.StepCount : 100;
        _lastPersisted = time.GetTimestamp();
        await PublishAsync().ConfigureAwait(false);

        // The deadline counts from the first start, so a redelivered quest does not get a fresh allowance.
        var remaining = quest.StartedAt!.Value + options.Value.QuestDeadline - time.GetUtcNow();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, cancelToken);
        deadline.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        using var heartbeat = new CancellationTokenSource();
        var beating = HeartbeatAsync(quest.Id, heartbeat.Token);
        try
        {
            return await RunAsync(quest, model, deadline, stoppingToken, cancelToken).ConfigureAwait(false);
        }
        finally
        {
            await heartbeat.CancelAsync().ConfigureAwait(false);
            await beating.ConfigureAwait(false);
        }
    }

    private async Task<ProcessResult> RunAsync(Quest quest, ModelDescriptor model, CancellationTokenSource deadline, CancellationToken stoppingToken, CancellationToken cancelToken)
    {
        var questId = quest.Id;
        ProviderResult result;
        try
        {
            result = await providers.GenerateAsync(new ProviderRequest
            {
                QuestId = quest.Id,
                Prompt = quest.Prompt,
                Model = model,
                Parameters = quest.Parameters,
                ResumePollingUrl = quest.ProviderPollingUrl,
                OnJobAccepted = SaveJobAsync,
                OnProgress = ReportProgressAsync,
                OnCall = RecordCall,
            }, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancelToken.IsCancellationRequested)
        {
            await CancelAsync().ConfigureAwait(false);
            return ProcessResult.Done;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return await HandBackAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            LogFailed(logger, questId, quest.UserId, quest.Model, ErrorCodes.TimedOut, null);
            await FailAsync(ErrorCodes.TimedOut, $"{model.DisplayName} did not finish within {options.Value.QuestDeadline.TotalSeconds:0} seconds. Nothing was charged; try again.",
                QuestStatus.TimedOut).ConfigureAwait(false);
            return ProcessResult.Done;
        }
        catch (ProviderException e)
        {
            LogFailed(logger, questId, quest.UserId, quest.Model, e.ErrorCode, e);
            await FailAsync(e.ErrorCode, Explain(e, model)).ConfigureAwait(false);
            return ProcessResult.Done;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, questId, quest.UserId, quest.Model, ErrorCodes.RenderFailed, e);
            await FailAsync(ErrorCodes.RenderFailed, "The image could not be made. Try again, or change the size.").ConfigureAwait(false);
            return ProcessResult.Done;
        }

        await SucceedAsync(result, stoppingToken).ConfigureAwait(false);
        return ProcessResult.Done;
    }

    /// <summary>Ends a quest that is not finished yet, from outside a run (the reconciler, the dead-letter path).</summary>
    public async Task<bool> FailUnfinishedAsync(Guid questId, QuestStatus status, string code, string message)
    {
        var quest = await db.Quests.FirstOrDefaultAsync(q => q.Id == questId).ConfigureAwait(false);
        if (quest is null || quest.Status.IsTerminal())
        {
            return false;
        }

        _quest = quest;
        _sequence = ((long)quest.Attempts << 20) + (1 << 19);
        _totalSteps = 100;
        // False when another worker ended it at the same moment (its settlement won): only one of them reports it.
        return await FailAsync(code, message, status).ConfigureAwait(false);
    }

    /// <summary>Shutdown: put the quest back in the queue for another worker, with a fresh stream entry.</summary>
    private async Task<ProcessResult> HandBackAsync()
    {
        _quest.Status = QuestStatus.Queued;
        _quest.LeaseUntil = null;
        _quest.StatusText = "Waiting for a worker...";
        _quest.EnqueuedAt = time.GetUtcNow();
        AddStep(QuestStepKinds.HandedBack, detail: "worker shutting down");
        await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
        await queue.EnqueueAsync(_quest.Id).ConfigureAwait(false);
        LogHandedBack(logger, _quest.Id, _quest.UserId, _quest.Model);
        return ProcessResult.HandedBack;
    }

    /// <summary>
    /// Adds a step to the quest's timeline. Steps are saved with the next save of the quest (progress, the provider's
    /// job id, the outcome), so the timeline costs no round trip of its own.
    /// </summary>
    private void AddStep(string kind, int? attempt = null, int? durationMs = null, int? httpStatus = null, string? code = null, string? detail = null,
        string? circuit = null, string? sent = null) =>
        db.QuestSteps.Add(new QuestStep
        {
            QuestId = _quest.Id,
            At = time.GetUtcNow(),
            Kind = kind,
            Run = _quest.Attempts,
            Attempt = attempt,
            DurationMs = durationMs,
            HttpStatus = httpStatus,
            Code = code,
            Detail = detail is { Length: > QuestStepLimits.MaxDetailLength } ? detail[..QuestStepLimits.MaxDetailLength] : detail,
            Circuit = circuit,
            Sent = sent,
        });

    /// <summary>The status as metrics name it: snake_case.</summary>
    private static string StatusTag(QuestStatus status) => status switch
    {
        QuestStatus.TimedOut => "timed_out",
        _ => status.ToString().ToLowerInvariant(),
    };

    private void RecordCall(ProviderCall call)
    {
        metrics.ProviderCalled(_quest.Model, ModelCatalog.ProviderTag(_quest.Model), call.HttpStatus, call.ErrorCode, call.RetryIn is not null);
        LogProviderCall(logger, _quest.Id, _quest.UserId, _quest.Model, call.Attempt, (long)call.Duration.TotalMilliseconds, call.HttpStatus, call.ErrorCode);
        AddStep(QuestStepKinds.ProviderCall, call.Attempt, (int)call.Duration.TotalMilliseconds, call.HttpStatus, call.ErrorCode, call.Message, call.Circuit,
            call.Sent?.ToJsonString());
        if (call.RetryIn is { } wait)
        {
            LogRetry(logger, _quest.Id, _quest.UserId, _quest.Model, call.Attempt, call.ErrorCode, (long)wait.TotalMilliseconds);
            AddStep(QuestStepKinds.RetryWait, call.Attempt, (int)wait.TotalMilliseconds, code: call.ErrorCode,
                detail: $"retrying after {call.ErrorCode}{(call.HttpStatus is { } status ? $" (HTTP {status})" : "")}");
        }
    }

    private Task CancelAsync() =>
        FailAsync(ErrorCodes.Cancelled, "You cancelled this quest. Nothing was charged.", QuestStatus.Cancelled);

    /// <summary>Renews the lease while the quest runs, from its own scope (the run's context is busy).</summary>
    private async Task HeartbeatAsync(Guid questId, CancellationToken cancellationToken)
    {
        var every = options.Value.LeaseDuration / 3;
        try
        {
            while (true)
            {
                await Task.Delay(every, time, cancellationToken).ConfigureAwait(false);
                await using var scope = scopes.CreateAsyncScope();
                var heartbeatDb = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
                var until = time.GetUtcNow() + options.Value.LeaseDuration;
                await heartbeatDb.Quests.Where(q => q.Id == questId && q.Status == QuestStatus.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(q => q.LeaseUntil, until), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHeartbeatFailed(logger, questId, e);
        }
    }

    private async Task SucceedAsync(ProviderResult result, CancellationToken stoppingToken)
    {
        var quest = _quest;
        var images = new List<QuestImage>();
        var storing = time.GetTimestamp();
        try
        {
            for (var index = 0; index < result.Images.Count; index++)
            {
                var image = result.Images[index];
                var imageId = Guid.CreateVersion7(time.GetUtcNow());
                var key = FileSystemImageStore.KeyFor(imageId, ImageEncoding.Extension(image.ContentType));
                await store.SaveAsync(key, image.Bytes, stoppingToken).ConfigureAwait(false);
                images.Add(new QuestImage
                {
                    Id = imageId,
                    QuestId = quest.Id,
                    UserId = quest.UserId,
                    Index = index,
                    Width = image.Width,
                    Height = image.Height,
                    ContentType = image.ContentType,
                    Bytes = image.Bytes.Length,
                    Checksum = Convert.ToHexStringLower(SHA256.HashData(image.Bytes)),
                    StorageKey = key,
                    CreatedAt = time.GetUtcNow(),
                    Placeholder = ImageVariants.Placeholder(image.Bytes),
                });
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogFailed(logger, quest.Id, quest.UserId, quest.Model, ErrorCodes.StorageFailed, e);
            await FailAsync(ErrorCodes.StorageFailed, "The image was made but could not be stored. Nothing was charged; try again in a moment.").ConfigureAwait(false);
            return;
        }

        AddStep(QuestStepKinds.Stored, durationMs: (int)time.GetElapsedTime(storing).TotalMilliseconds, detail: $"{images.Count} image(s), {images.Sum(i => i.Bytes)} bytes");
        LogStored(logger, quest.Id, quest.UserId, quest.Model, images.Count, images.Sum(i => i.Bytes));

        // The images are durable before the quest says Succeeded; rows, state and charge commit together.
        quest.Images.AddRange(images);
        quest.Status = QuestStatus.Succeeded;
        quest.LeaseUntil = null;
        quest.Progress = 1;
        quest.StatusText = "Done.";
        quest.CompletedAt = time.GetUtcNow();
        quest.GenerationMilliseconds = (int)result.ProviderTime.TotalMilliseconds;
        quest.Width ??= images[0].Width;
        quest.Height ??= images[0].Height;
        quest.Seed ??= result.Seed;
        // Charge what the provider billed, never more than was reserved; the rest goes back in the same entry.
        var charged = Math.Min(quest.Cost, result.BilledCredits ?? quest.Cost);
        db.CreditEntries.Add(CreditLedger.Entry(quest.UserId, CreditEntryKind.Capture, quest.Cost - charged, time.GetUtcNow(), quest.Id, $"Charged {charged} of {quest.Cost} reserved"));
        AddStep(QuestStepKinds.Ended, detail: nameof(QuestStatus.Succeeded));
        if (await SaveSettlementAsync().ConfigureAwait(false))
        {
            LogCharged(logger, quest.Id, quest.UserId, quest.Model, charged, quest.Cost);
            LogSucceeded(logger, quest.Id, quest.UserId, quest.Model, quest.GenerationMilliseconds.Value);
            metrics.QuestEnded(quest.Model, ModelCatalog.ProviderTag(quest.Model), "succeeded", null, result.ProviderTime);
            metrics.Credits("captured", charged);
            metrics.Credits("released", quest.Cost - charged);
            foreach (var image in images)
            {
                metrics.ImageStored(image.Bytes);
            }

            await PublishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Ends the quest as failed (or cancelled, or timed out) with its credits released; false if it was already settled.</summary>
    private async Task<bool> FailAsync(string code, string message, QuestStatus status = QuestStatus.Failed)
    {
        var quest = _quest;
        quest.Status = status;
        quest.LeaseUntil = null;
        quest.StatusText = status switch
        {
            QuestStatus.TimedOut => "Timed out.",
            QuestStatus.Cancelled => "Cancelled.",
            _ => "Failed.",
        };
        quest.ErrorCode = code;
        quest.ErrorMessage = message;
        quest.CompletedAt = time.GetUtcNow();
        // Nothing was delivered, so the reservation goes back, in the same commit as the failure.
        db.CreditEntries.Add(CreditLedger.Entry(quest.UserId, CreditEntryKind.Release, quest.Cost, time.GetUtcNow(), quest.Id, code));
        AddStep(QuestStepKinds.Ended, code: code, detail: status.ToString());
        if (await SaveSettlementAsync().ConfigureAwait(false))
        {
            metrics.QuestEnded(quest.Model, ModelCatalog.ProviderTag(quest.Model), StatusTag(status), code,
                quest.GenerationMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
            metrics.Credits("released", quest.Cost);
            await PublishAsync().ConfigureAwait(false);
            return true;
        }

        return false;
    }

    /// <summary>A sentence for people: what happened and what to do next.</summary>
    private static string Explain(ProviderException e, ModelDescriptor model) => e.Failure switch
    {
        ProviderFailure.Moderated when model.SafetyTolerance is not null && e.Message.Contains("prompt", StringComparison.Ordinal) =>
            $"{model.DisplayName}'s safety system refused this prompt. Rephrase it, or, if it is harmless, try again with a higher safety tolerance (up to {model.SafetyTolerance.Max}; 4 or more is less strict). Nothing was charged.",
        ProviderFailure.Moderated when model.SafetyTolerance is not null =>
            $"{model.DisplayName}'s safety system refused the image it made. Rephrase the prompt, or try a higher safety tolerance (up to {model.SafetyTolerance.Max}). Nothing was charged.",
        ProviderFailure.Moderated => $"{model.DisplayName}'s safety system refused this prompt. Rephrase it and try again. Nothing was charged.",
        ProviderFailure.RateLimited => $"{model.DisplayName} is receiving too many requests; ImageGen retried and gave up. Try again in a minute. Nothing was charged.",
        ProviderFailure.Unavailable => $"{e.Message} Nothing was charged.",
        ProviderFailure.Timeout => $"{model.DisplayName} did not answer in time. Nothing was charged; try again.",
        ProviderFailure.Expired => $"{model.DisplayName}'s result expired before it could be fetched. Nothing was charged; try again.",
        ProviderFailure.Rejected => $"{model.DisplayName} refused the request: {e.Message} Nothing was charged.",
        _ => $"{model.DisplayName} failed: {e.Message} Nothing was charged.",
    };

    private async Task SaveJobAsync(string jobId, string pollingUrl, CancellationToken cancellationToken)
    {
        _quest.ProviderJobId = jobId;
        _quest.ProviderPollingUrl = pollingUrl;
        // Saved at once: if this worker dies now, the next attempt resumes the job instead of paying for another.
        await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask ReportProgressAsync(double progress, string text, CancellationToken cancellationToken)
    {
        // Waiting or retrying never moves the bar backwards.
        _quest.Progress = Math.Max(_quest.Progress, progress);
        LogProgress(logger, _quest.Id, _quest.UserId, _quest.Model, _quest.Progress);
        _quest.StatusText = text.Length > 200 ? text[..200] : text;
        await PublishAsync().ConfigureAwait(false);
        if (time.GetElapsedTime(_lastPersisted) >= options.Value.ProgressPersistInterval)
        {
            _lastPersisted = time.GetTimestamp();
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Saves a terminal state with its ledger settlement. If an earlier attempt already settled this quest (a crash
    /// after commit, before acknowledging), the unique settlement index refuses the second one: nothing is charged
    /// twice, and this attempt stands down.
    /// </summary>
    private async Task<bool> SaveSettlementAsync()
    {
        try
        {
            await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException e) when (CreditLedger.IsDuplicateSettlement(e))
        {
            LogAlreadySettled(logger, _quest.Id);
            return false;
        }
    }

    private Task PublishAsync()
    {
        var quest = _quest;
        return events.PublishAsync(new QuestEvent
        {
            QuestId = quest.Id,
            UserId = quest.UserId,
            Sequence = ++_sequence,
            Status = quest.Status,
            Step = (int)Math.Round(quest.Progress * _totalSteps),
            TotalSteps = _totalSteps,
            Progress = quest.Progress,
            StatusText = quest.StatusText,
            Error = quest.ErrorCode is null ? null : new QuestErrorDto(quest.ErrorCode, quest.ErrorMessage ?? ""),
            PublishedAt = time.GetUtcNow(),
            // The whole quest rides on the final event, so the API need not read it back; it signs the image URLs.
            Quest = quest.Status.IsTerminal() ? quest.ToDto() : null,
        });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Quest {QuestId} was not claimed: finished, unknown, or held by another worker")]
    private static partial void LogNotClaimed(ILogger logger, Guid questId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} on {Model} handed back to the queue on shutdown")]
    private static partial void LogHandedBack(ILogger logger, Guid questId, Guid userId, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId}: renewing the lease failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Guid questId, Exception exception);

    // Every stage of a quest, with the quest, its owner and the model as fields; never the prompt.
    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} started on {Model}, run {Attempt}")]
    private static partial void LogStarted(ILogger logger, Guid questId, Guid userId, string model, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId}: {Model} call {Attempt} took {DurationMs} ms, HTTP {HttpStatus}, {ErrorCode}")]
    private static partial void LogProviderCall(ILogger logger, Guid questId, Guid userId, string model, int attempt, long durationMs, int? httpStatus, string? errorCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} of {UserId}: {Model} call {Attempt} failed with {ErrorCode}; retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, Guid questId, Guid userId, string model, int attempt, string? errorCode, long delayMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Quest {QuestId} of {UserId} on {Model}: progress {Progress}")]
    private static partial void LogProgress(ILogger logger, Guid questId, Guid userId, string model, double progress);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} on {Model}: stored {Images} image(s), {Bytes} bytes")]
    private static partial void LogStored(ILogger logger, Guid questId, Guid userId, string model, int images, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} on {Model}: charged {Credits} of {Reserved} reserved credits")]
    private static partial void LogCharged(ILogger logger, Guid questId, Guid userId, string model, int credits, int reserved);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} succeeded on {Model} in {GenerationMs} ms")]
    private static partial void LogSucceeded(ILogger logger, Guid questId, Guid userId, string model, int generationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} was already settled by an earlier attempt; standing down")]
    private static partial void LogAlreadySettled(ILogger logger, Guid questId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} of {UserId} on {Model} failed with {ErrorCode}")]
    private static partial void LogFailed(ILogger logger, Guid questId, Guid userId, string model, string errorCode, Exception? exception);
}
