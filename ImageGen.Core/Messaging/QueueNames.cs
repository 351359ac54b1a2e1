namespace ImageGen.Core.Messaging;

/// <summary>Names of the Redis keys and channels that connect the API and the workers.</summary>
public static class QueueNames
{
    /// <summary>The stream of quests waiting for a worker.</summary>
    public const string QuestStream = "quests";

    /// <summary>The consumer group every worker reads <see cref="QuestStream"/> with.</summary>
    public const string WorkerGroup = "workers";

    /// <summary>Pub/sub channel a submitter pings after adding to the stream, so idle workers wake at once instead of polling.</summary>
    public const string QuestWakeChannel = "quests:wake";

    /// <summary>Entries a worker gave up on (too many deliveries, or unreadable), for an operator to inspect and re-drive.</summary>
    public const string DeadLetterStream = "quests:dead";

    /// <summary>Pub/sub channel of quest ids whose owners asked to cancel them while running.</summary>
    public const string CancelChannel = "quests:cancel";

    /// <summary>The lease that lets one worker at a time run the reconciler.</summary>
    public const string ReconcilerLease = "quests:reconciler";

    /// <summary>Pub/sub channel of <see cref="QuestEvent"/>s, published by workers and forwarded by the API to SignalR.</summary>
    public const string EventChannel = "quest-events";

    /// <summary>Stream entry fields.</summary>
    public static class Fields
    {
        public const string QuestId = "quest";
        public const string TraceParent = "traceparent";
        public const string TraceState = "tracestate";
        public const string EntryId = "entry";
        public const string Reason = "reason";
        public const string Deliveries = "deliveries";
        public const string DeadAt = "dead_at";
    }
}
