using ImageGen.Core.Accounts;

namespace ImageGen.Core.Quests;

/// <summary>The kinds of step on a quest's timeline.</summary>
public static class QuestStepKinds
{
    /// <summary>A worker claimed the quest and began a run (Detail: the worker; DurationMs: time spent queued).</summary>
    public const string Started = "started";

    /// <summary>One call to the provider or the local renderer (DurationMs, HttpStatus, Code, Circuit, Sent).</summary>
    public const string ProviderCall = "provider_call";

    /// <summary>A pause before calling again (DurationMs: the wait; Code: why).</summary>
    public const string RetryWait = "retry_wait";

    /// <summary>The images are durable in the store (DurationMs: writing them).</summary>
    public const string Stored = "stored";

    /// <summary>The worker gave the quest back to the queue (shutdown).</summary>
    public const string HandedBack = "handed_back";

    /// <summary>The reconciler put the quest back in the queue: its worker's lease lapsed (Detail: why).</summary>
    public const string Requeued = "requeued";

    /// <summary>The provider accepted the job (Detail: its id; Code: what it costs, when it said so).</summary>
    public const string JobAccepted = "job_accepted";

    /// <summary>The quest ended (Code: the error code, if any; Detail: the status).</summary>
    public const string Ended = "ended";

    /// <summary>The quest's model could not take it (circuit open, or rate limited after retries): the next fallback runs.</summary>
    public const string Fallback = "fallback";

    /// <summary>One attempt to send an event to the quest's webhook (Attempt, DurationMs, HttpStatus; Detail: event, host, outcome).</summary>
    public const string Webhook = "webhook";
}

public static class QuestStepLimits
{
    public const int MaxDetailLength = 500;
}

/// <summary>One entry of the timeline as operators see it.</summary>
public sealed record QuestStepDto(DateTimeOffset At, string Kind, int Run, int? Attempt, int? DurationMs, int? HttpStatus, string? Code, string? Detail,
    string? Circuit, System.Text.Json.Nodes.JsonNode? Sent);

/// <summary>Everything an operator needs about one quest: the owner, every step, its credits, and its trace.</summary>
public sealed record QuestDebugDto
{
    public required QuestDto Quest { get; init; }
    public required Guid OwnerId { get; init; }
    public required string OwnerEmail { get; init; }
    public required int Attempts { get; init; }
    public string? ProviderJobId { get; init; }
    public required IReadOnlyList<QuestStepDto> Timeline { get; init; }
    public required IReadOnlyList<CreditEntryDto> Credits { get; init; }

    /// <summary>The W3C trace id of the submit, which the worker's and the provider calls' spans share.</summary>
    public string? TraceId { get; init; }

    /// <summary>The trace in the Aspire dashboard, when the API knows the dashboard's address.</summary>
    public string? TraceUrl { get; init; }
}
