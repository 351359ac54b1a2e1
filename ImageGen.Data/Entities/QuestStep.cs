namespace ImageGen.Data.Entities;

/// <summary>
/// One entry of a quest's timeline, for operators: a run started, a provider call (how long, what it answered, the
/// circuit, why it is retried), the images stored, the end. Written with the quest's state, in the same commit.
/// </summary>
public sealed class QuestStep
{
    public long Id { get; set; }
    public Guid QuestId { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>See <see cref="ImageGen.Core.Quests.QuestStepKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The run (delivery) this step belongs to, from 1.</summary>
    public int Run { get; set; }

    /// <summary>For a provider call: its attempt within the run, from 1.</summary>
    public int? Attempt { get; set; }
    public int? DurationMs { get; set; }
    public int? HttpStatus { get; set; }

    /// <summary>An error code, or the reason a call is retried.</summary>
    public string? Code { get; set; }
    public string? Detail { get; set; }

    /// <summary>The provider's circuit after the call: closed, open or half_open.</summary>
    public string? Circuit { get; set; }

    /// <summary>For a provider call: the parameters as sent, after mapping to the provider's names (JSON, no secrets).</summary>
    public string? Sent { get; set; }
}
