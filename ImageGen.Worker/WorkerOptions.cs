using System.ComponentModel.DataAnnotations;

namespace ImageGen.Worker;

/// <summary>How a worker consumes the quest stream. Bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Quests one worker runs at the same time.</summary>
    [Range(1, 256)]
    public int MaxConcurrency { get; set; } = Math.Max(2, Environment.ProcessorCount * 2);

    /// <summary>This worker's name in the consumer group. Keep it stable across restarts so it finds its own pending entries.</summary>
    public string ConsumerName { get; set; } = Environment.MachineName + "-" + Environment.ProcessId;

    /// <summary>Pause between the local renderer's steps, so people can watch it paint. Zero in benchmarks.</summary>
    public TimeSpan RenderStepDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often running progress is written to Postgres; events go out at every step regardless.</summary>
    public TimeSpan ProgressPersistInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest a quest may run, from its first start; past it the quest ends TimedOut and its credits go back.</summary>
    public TimeSpan QuestDeadline { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Longest wait for new work when no wake-up arrives (a safety net for lost pub/sub messages).</summary>
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
