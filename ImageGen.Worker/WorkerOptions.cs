using System.ComponentModel.DataAnnotations;
using ImageGen.Core.Quests;

namespace ImageGen.Worker;

/// <summary>How a worker consumes the quest stream. Bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Quests one worker runs at the same time.</summary>
    [Range(1, 256)]
    public int MaxConcurrency { get; set; } = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>
    /// Quests one user may have running at once, across every worker. Their other quests wait (in order) while other
    /// users' quests start, so no one account can fill the fleet.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxRunningPerUser { get; set; } = FairShare.DefaultMaxRunningPerUser;

    /// <summary>This worker's name in the consumer group. Keep it stable across restarts so it finds its own pending entries.</summary>
    public string ConsumerName { get; set; } = Environment.MachineName + "-" + Environment.ProcessId;

    /// <summary>Pause between the local renderer's steps, so people can watch it paint. Zero in benchmarks.</summary>
    public TimeSpan RenderStepDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often running progress is written to Postgres; events go out at every step regardless.</summary>
    public TimeSpan ProgressPersistInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The least time between two preview frames of one quest (each costs a small encode); zero turns them off.
    /// A fast render (no step delay) sends one frame at most.
    /// </summary>
    public TimeSpan PreviewInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest a quest may run, from its first start; past it the quest ends TimedOut and its credits go back.</summary>
    public TimeSpan QuestDeadline { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a worker holds a quest between heartbeats; a quest whose lease lapsed is taken over.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Stream entries idle (unacknowledged) this long are claimed from their consumer by another worker.</summary>
    public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Times a quest may be started (and deliveries of one stream entry) without an outcome before it is dead-lettered
    /// and fails with delivery_exhausted.
    /// </summary>
    [Range(1, 100)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>On shutdown, how long in-flight quests may run on before they are handed back to the queue.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the reconciler compares Postgres (the truth) with the queue.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A queued quest no worker took within this time is added to the stream again (Redis may have lost it).</summary>
    public TimeSpan RequeueAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A quest still queued this long after it was submitted times out, and its credits go back.</summary>
    public TimeSpan QueueDeadline { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Longest wait for new work when no wake-up arrives: a safety net for a lost pub/sub message (each new quest
    /// publishes one), so a few seconds; polling every second was most of an idle worker's CPU.
    /// </summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
