namespace ImageGen.Worker.Services;

/// <summary>Every stage of a quest, logged with the quest, its owner and the model as fields; never the prompt.</summary>
internal sealed partial class QuestProcessor
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Quest {QuestId} was not claimed: {Reason}")]
    private static partial void LogNotClaimed(ILogger logger, Guid questId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The next waiting quest of {UserId} could not be sent; the reconciler will")]
    private static partial void LogNextNotSent(ILogger logger, Guid userId, Exception exception);

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} had already ended elsewhere (settled by another run, the reconciler or its owner); standing down")]
    private static partial void LogAlreadySettled(ILogger logger, Guid questId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId} of {UserId} on {Model} failed with {ErrorCode}")]
    private static partial void LogFailed(ILogger logger, Guid questId, Guid userId, string model, string errorCode, Exception? exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quest {QuestId}: the moment its provider started billing could not be stored")]
    private static partial void LogBillableNotStored(ILogger logger, Guid questId, Exception exception);
}
